import random

import numpy as np
import pytest
import torch

import trustml
from trustml import fast_or_full, get_device, set_seed, settings


def test_set_seed_repeats_python_numpy_and_torch():
    def draw():
        return random.random(), np.random.rand(), torch.rand(3).tolist()

    set_seed(123)
    first = draw()
    set_seed(123)
    assert draw() == first
    set_seed(124)
    assert draw() != first


@pytest.mark.parametrize("bad", [-1, 1.5, "0", True, None])
def test_set_seed_rejects_bad_seeds(bad):
    with pytest.raises(ValueError, match="non-negative integer"):
        set_seed(bad)


def test_get_device_prefers_cuda_then_mps(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert get_device().type == "cuda"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert get_device().type == "mps"
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert get_device().type == "cpu"


def test_settings_follow_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("TRUSTML_DATA", str(tmp_path / "cache"))
    monkeypatch.setenv("TRUSTML_OFFLINE", "0")
    monkeypatch.setenv("TRUSTML_FAST", "1")
    now = settings()
    assert now.data_dir == tmp_path / "cache"
    assert (now.offline, now.fast) == (False, True)
    assert fast_or_full(full=10, fast=2) == 2
    monkeypatch.setenv("TRUSTML_FAST", "0")
    assert fast_or_full(full=10, fast=2) == 10


def test_data_dir_defaults_to_the_checkouts_data_folder(monkeypatch):
    monkeypatch.delenv("TRUSTML_DATA")
    from pathlib import Path

    checkout = Path(trustml.__file__).resolve().parent.parent
    assert settings().data_dir == checkout / "data"


def test_settings_print_in_words_not_as_a_repr(monkeypatch, tmp_path):
    monkeypatch.setenv("TRUSTML_DATA", str(tmp_path))
    monkeypatch.setenv("TRUSTML_OFFLINE", "1")
    monkeypatch.setenv("TRUSTML_FAST", "1")
    text = str(trustml.settings())
    assert text.splitlines() == [
        f"data dir: {tmp_path} (TRUSTML_DATA)",
        "offline: stand-ins only, plus datasets already cached (TRUSTML_OFFLINE=0 allows downloads)",
        "fast mode: small subsets and few epochs (TRUSTML_FAST=0 for full runs)",
    ]
    assert "PosixPath" not in text and "True" not in text
    monkeypatch.setenv("TRUSTML_OFFLINE", "0")
    monkeypatch.setenv("TRUSTML_FAST", "0")
    text = str(trustml.settings())
    assert "downloads allowed" in text and "full mode" in text


def test_a_switch_that_is_not_one_says_so(monkeypatch):
    monkeypatch.setenv("TRUSTML_OFFLINE", "maybe")
    with pytest.raises(ValueError, match="TRUSTML_OFFLINE='maybe' is not a switch"):
        settings()


def test_aif360_notices_about_unused_extras_are_silenced_others_are_not(caplog):
    import logging

    with caplog.at_level(logging.WARNING):
        logging.warning("No module named 'tensorflow': AdversarialDebiasing will be unavailable. To install, run:\n...")
        logging.warning("something else")
    assert [r.getMessage() for r in caplog.records] == ["something else"]


def test_importing_the_fairness_libraries_prints_no_notices():
    import subprocess
    import sys

    code = "import trustml, trustml.data, aif360.metrics, aif360.algorithms.preprocessing"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "will be unavailable" not in result.stderr + result.stdout
