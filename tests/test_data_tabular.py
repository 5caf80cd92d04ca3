import io
import tempfile
import zipfile
from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest
from aif360.datasets import BinaryLabelDataset, MEPSDataset19
from aif360.datasets import meps_dataset_panel19_fy2015 as meps19_module
from aif360.metrics import BinaryLabelDatasetMetric
from fairlearn.metrics import demographic_parity_difference, demographic_parity_ratio

from trustml.data import (
    DataNotice,
    DatasetNotAvailableError,
    DownloadError,
    fetch,
    is_cached,
    list_datasets,
    load,
    load_german_credit,
)
from trustml.data.tabular import _MEPS19_URL


@pytest.fixture(scope="module")
def german_raw():
    """The shipped CSV read on its own, independently of trustml's loader."""
    with files("trustml.data").joinpath("_shipped/german_credit.csv").open("rb") as f:
        return pd.read_csv(f)


def parity(dataset, attribute):
    metric = BinaryLabelDatasetMetric(dataset, privileged_groups=[{attribute: 1}], unprivileged_groups=[{attribute: 0}])
    return metric.statistical_parity_difference(), metric.disparate_impact()


# --------------------------------------------------------------------------- German credit


def test_german_credit_shape_labels_and_sex(german_raw):
    credit = load("german_credit")
    assert isinstance(credit, BinaryLabelDataset)
    assert credit.features.shape[0] == 1000 and len(german_raw) == 1000
    assert set(np.unique(credit.labels)) == {0.0, 1.0} and credit.favorable_label == 1.0
    assert credit.protected_attribute_names == ["sex"]
    assert set(np.unique(credit.protected_attributes)) == {0.0, 1.0}
    # row order is kept: 1 = good credit, 1 = male
    np.testing.assert_array_equal(credit.labels.ravel(), german_raw["risk"].to_numpy(float))
    np.testing.assert_array_equal(credit.protected_attributes.ravel(), (german_raw["sex"] == "male").to_numpy(float))
    assert {"job=0", "housing=own", "purpose=radio/TV", "checking_account=not_known"} <= set(credit.feature_names)
    assert "sex=male" not in credit.feature_names and "age" in credit.feature_names


def test_german_credit_parity_matches_fairlearn_on_the_raw_csv(german_raw):
    spd, di = parity(load_german_credit(), "sex")
    good = german_raw["risk"] == 1
    kwargs = {"y_true": good, "y_pred": good, "sensitive_features": german_raw["sex"]}
    # women get good ratings less often, so AIF360's unprivileged-minus-privileged is negative
    assert spd == pytest.approx(-demographic_parity_difference(**kwargs), abs=1e-12)
    assert di == pytest.approx(demographic_parity_ratio(**kwargs), abs=1e-12)
    assert round(di, 3) == 0.897  # the docstring's number


def test_german_credit_protected_age(german_raw):
    credit = load_german_credit(protected="age")
    assert credit.protected_attribute_names == ["age"]
    older = (german_raw["age"] >= 25).to_numpy(float)
    np.testing.assert_array_equal(credit.protected_attributes.ravel(), older)
    assert {"sex=female", "sex=male"} <= set(credit.feature_names)  # sex becomes an ordinary feature
    assert credit.metadata["protected_attribute_maps"] == [{1.0: "age >= 25", 0.0: "age < 25"}]

    spd, di = parity(credit, "age")
    good = german_raw["risk"] == 1
    kwargs = {"y_true": good, "y_pred": good, "sensitive_features": german_raw["age"] >= 25}
    assert spd == pytest.approx(-demographic_parity_difference(**kwargs), abs=1e-12)
    assert di == pytest.approx(demographic_parity_ratio(**kwargs), abs=1e-12)


def test_german_credit_age_is_the_same_data_with_age_protected():
    by_name, direct = load("german_credit_age"), load_german_credit(protected="age")
    np.testing.assert_array_equal(by_name.features, direct.features)
    np.testing.assert_array_equal(by_name.protected_attributes, direct.protected_attributes)
    assert by_name.protected_attribute_names == ["age"]
    assert "age" in list_datasets().set_index("name").loc["german_credit_age", "description"]


def test_german_credit_both_protected():
    credit = load_german_credit(protected=["sex", "age"])
    assert credit.protected_attribute_names == ["sex", "age"]
    assert credit.protected_attributes.shape == (1000, 2)
    assert set(np.unique(credit.protected_attributes)) == {0.0, 1.0}


@pytest.mark.parametrize("protected", ["race", ["sex", "sex"], [], ["sex", "income"]])
def test_german_credit_unknown_protected(protected):
    with pytest.raises(ValueError, match=r"protected must be 'sex', 'age' or a list of both .* got"):
        load_german_credit(protected=protected)


def test_tabular_datasets_are_listed():
    table = list_datasets().set_index("name")
    assert table.loc["german_credit", "embedded"] and table.loc["german_credit", "kind"] == "tabular"
    assert table.loc["meps19", "stand_in"] == "german_credit_age" and not table.loc["meps19", "cached"]
    assert "MEPS data-use terms" in table.loc["meps19", "licence"]


# --------------------------------------------------------------------------- MEPS panel 19

CATEGORICAL_1_TO_4 = [
    "FTSTU53X", "ACTDTY53", "HONRDC53", "RTHLTH53", "MNHLTH53", "HIBPDX", "CHDDX", "ANGIDX", "EDUCYR",
    "HIDEG", "MIDX", "OHRTDX", "STRKDX", "EMPHDX", "CHBRON53", "CHOLDX", "CANCERDX", "DIABDX",
    "JTPAIN53", "ARTHDX", "ARTHTYPE", "ADHDADDX", "PREGNT53", "WLKLIM53", "ACTLIM53", "SOCLIM53",
    "COGLIM53", "DFHEAR42", "DFSEE42", "ADSMOK42", "PHQ242", "EMPST53", "INSCOV15",
]  # fmt: skip


def small_h181(n=60, seed=0):
    """A small stand-in for the h181 file: every column MEPSDataset19 uses, plus unused ones.

    SAS numbers are doubles, so every numeric column is float64 (exact in
    XPORT: small integers and halves). Some rows are of panel 20, some carry
    the missing/invalid codes MEPSDataset19's preprocessing drops.
    """
    rng = np.random.default_rng(seed)

    def codes(low, high):
        return rng.integers(low, high + 1, n).astype(float)

    df = pd.DataFrame({"DUPERSID": [f"{i:08d}" for i in range(n)], "PANEL": rng.choice([19.0, 20.0], n, p=[0.8, 0.2])})
    df["RACEV2X"] = codes(1, 6)
    df["HISPANX"] = codes(1, 2)
    df["UNUSED1"] = rng.normal(size=n).round()  # a column MEPSDataset19 ignores, between used ones
    df["REGION53"] = codes(1, 4)
    df["AGE53X"] = codes(0, 85)
    df["SEX"] = codes(1, 2)
    df["MARRY53X"] = codes(1, 6)
    df["ASTHDX"] = codes(1, 2)
    for column in CATEGORICAL_1_TO_4:
        df[column] = codes(-1, 4)  # -1 (inapplicable) is kept
    df["POVCAT15"] = codes(1, 5)
    for column in ["PCS42", "MCS42"]:
        df[column] = rng.integers(20, 140, n) / 2
    df["K6SUM42"] = codes(0, 24)
    for column in ["OBTOTV15", "OPTOTV15", "ERTOT15", "IPNGTD15", "HHTOTD15"]:
        df[column] = codes(0, 4)
    df["PERWT15F"] = rng.integers(2000, 40000, n) / 2
    df["UNUSED2"] = codes(0, 9)
    # invalid codes, each dropped by the preprocessing
    df.loc[1, "REGION53"] = -1
    df.loc[2, "AGE53X"] = -1
    df.loc[3, "MARRY53X"] = -7
    df.loc[4, "ASTHDX"] = -8
    df.loc[5, "RTHLTH53"] = -9
    df.loc[6, "INSCOV15"] = -8
    df.loc[:6, "PANEL"] = 19.0
    return df


def h181_zip(df, compression=zipfile.ZIP_DEFLATED) -> bytes:
    """``df`` as the MEPS publisher ships it: a SAS XPORT v5 file in a zip."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "h181.ssp"
        pyreadstat.write_xport(df, str(path), file_format_version=5, table_name="H181")
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression) as archive:
            archive.write(path, "h181.ssp")
    return buffer.getvalue()


def reference_meps19(raw, monkeypatch):
    """The reference: aif360's own MEPSDataset19, reading ``raw`` instead of its h181.csv."""
    monkeypatch.setattr(meps19_module.pd, "read_csv", lambda *args, **kwargs: raw.copy())
    # AIF360 0.6 fails on pandas 3's str columns (Trusted-AI/AIF360#560): run it the pandas 2
    # way (a deprecated option, still there in pandas 3), not with trustml's workaround.
    with pd.option_context("future.infer_string", False):
        return MEPSDataset19()


def assert_same_dataset(ours, reference):
    assert ours.feature_names == reference.feature_names
    assert ours.label_names == reference.label_names == ["UTILIZATION"]
    assert ours.protected_attribute_names == reference.protected_attribute_names == ["RACE"]
    for attribute in ["features", "labels", "protected_attributes", "instance_weights"]:
        np.testing.assert_array_equal(getattr(ours, attribute), getattr(reference, attribute), err_msg=attribute)
    assert ours.privileged_protected_attributes == reference.privileged_protected_attributes


def test_meps19_real_loader_matches_aif360(data_dir, monkeypatch):
    raw = small_h181()
    folder = data_dir / "meps19"
    folder.mkdir()
    (folder / "h181ssp.zip").write_bytes(h181_zip(raw))
    assert is_cached("meps19")

    ours = load("meps19", source="real")
    reference = reference_meps19(raw, monkeypatch)
    assert_same_dataset(ours, reference)

    # panel 20 and the rows with invalid codes (1 to 6) are gone, the rest kept in order
    kept = raw.index[(raw["PANEL"] == 19) & ~raw.index.isin(range(1, 7))]
    assert [int(name) for name in ours.instance_names] == kept.tolist()
    assert set(np.unique(ours.labels)) == {0.0, 1.0}
    assert set(np.unique(ours.protected_attributes)) == {0.0, 1.0}
    assert "REGION=1.0" in ours.feature_names and "PERWT15F" not in ours.feature_names
    # XPORT zeros come back as 0.0, not as pandas' 5.4e-79 (pandas-dev/pandas#50670)
    assert "FTSTU=0.0" in ours.feature_names
    assert not np.any((ours.features != 0) & (np.abs(ours.features) < 1e-70))


def test_meps19_fetch_then_load(data_dir, fake_downloads, monkeypatch):
    raw = small_h181(seed=1)
    fake_downloads.served[_MEPS19_URL] = h181_zip(raw)
    folder = fetch("meps19", accept_terms=True)
    assert folder == data_dir / "meps19" and (folder / "h181ssp.zip").is_file()
    assert fake_downloads.requested == [_MEPS19_URL]
    assert_same_dataset(load("meps19"), reference_meps19(raw, monkeypatch))


def flip_a_byte(data: bytes, at: int = 200) -> bytes:
    damaged = bytearray(data)
    damaged[at] ^= 0xFF
    return bytes(damaged)


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda: flip_a_byte(h181_zip(small_h181(), zipfile.ZIP_STORED)), id="crc mismatch"),
        pytest.param(lambda: b"<html>Service unavailable</html>", id="not a zip"),
        pytest.param(
            lambda: flip_a_byte(h181_zip(small_h181())),
            id="broken deflate stream",
        ),
    ],
)
def test_meps19_corrupt_download_is_removed(data_dir, fake_downloads, damage):
    fake_downloads.served[_MEPS19_URL] = damage()
    with pytest.raises(DownloadError, match="h181ssp.zip is corrupt"):
        fetch("meps19", accept_terms=True)
    assert list((data_dir / "meps19").iterdir()) == []
    assert not is_cached("meps19")


def test_meps19_needs_the_terms_accepted(fake_downloads):
    with pytest.raises(DatasetNotAvailableError, match="--accept-meps-terms") as info:
        fetch("meps19")
    assert "https://meps.ahrq.gov/data_stats/data_use.jsp" in str(info.value)
    assert fake_downloads.requested == []


def test_meps19_real_offline_says_how_to_fetch():
    with pytest.raises(DatasetNotAvailableError, match="trustml fetch meps19"):
        load("meps19", source="real")
    with pytest.raises(
        DatasetNotAvailableError, match="TRUSTML_OFFLINE=1 forbids .* `trustml fetch meps19 --accept-meps-terms`"
    ):
        fetch("meps19", accept_terms=True)


def test_meps19_other_file_is_refused(data_dir):
    folder = data_dir / "meps19"
    folder.mkdir()
    (folder / "h181ssp.zip").write_bytes(h181_zip(small_h181().drop(columns=["PANEL", "HISPANX"])))
    with pytest.raises(ValueError, match="not the MEPS 2015 full-year file h181: it lacks the columns HISPANX, PANEL"):
        load("meps19", source="real")
    with pytest.warns(DataNotice, match="'german_credit_age' in place of 'meps19'.*lacks the columns HISPANX, PANEL"):
        assert load("meps19").features.shape[0] == 1000  # auto: the stand-in, saying why


def test_meps19_auto_offline_falls_back_to_german_credit_with_age_protected():
    with pytest.warns(DataNotice, match="'german_credit_age' in place of 'meps19'"):
        data = load("meps19")
    # age, as in AIF360's credit tutorial: like race on MEPS, a large gap for the mitigations to close
    assert data.protected_attribute_names == ["age"] and data.features.shape[0] == 1000
    assert load("meps19", source="embedded").features.shape[0] == 1000
