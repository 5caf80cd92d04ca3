"""Test isolation: every test gets its own empty data dir and runs offline.

A test that exercises a download sets ``TRUSTML_OFFLINE=0`` itself and replaces
the network with a fake downloader (see ``fake_downloads``): no test touches
the network.
"""

from __future__ import annotations

import os

import pytest
import torch
from hypothesis import settings

# The suite is reproducible: property-based tests draw the same examples on every run, so a
# landing run cannot fail on a new random draw. Hunt for new failures with
# HYPOTHESIS_PROFILE=explore (random draws, 20x the examples) and add each one found as an
# @example of its test.
settings.register_profile("default", derandomize=True, max_examples=250)
settings.register_profile("explore", derandomize=False, max_examples=5000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path, monkeypatch):
    """Point TRUSTML_DATA at a fresh folder, switch offline on and fast mode off."""
    data_dir = tmp_path / "trustml-data"
    data_dir.mkdir()
    monkeypatch.setenv("TRUSTML_DATA", str(data_dir))
    monkeypatch.setenv("TRUSTML_OFFLINE", "1")
    monkeypatch.delenv("TRUSTML_FAST", raising=False)
    return data_dir


@pytest.fixture
def data_dir(isolated_settings):
    """The test's own data/cache folder (what ``TRUSTML_DATA`` points at)."""
    return isolated_settings


class FakeNetwork:
    """Serves downloads from ``served`` (``{url: bytes}``) and records what was ``requested``."""

    def __init__(self):
        self.served: dict[str, bytes] = {}
        self.requested: list[str] = []

    def __call__(self, url, output_file, pooch_obj=None, check_only=False):
        self.requested.append(url)
        if url not in self.served:
            raise ConnectionError(f"cannot reach {url} (test: no network)")
        if hasattr(output_file, "write"):
            output_file.write(self.served[url])
        else:
            with open(output_file, "wb") as f:
                f.write(self.served[url])


@pytest.fixture
def fake_downloads(monkeypatch):
    """Go online, but serve every download from ``fake_downloads.served`` instead of the network.

    A URL missing from ``served`` fails like an unreachable host. pooch's own
    hash check and atomic move still run on what is served.
    """
    import trustml.data._download as download_module

    network = FakeNetwork()
    monkeypatch.setenv("TRUSTML_OFFLINE", "0")
    monkeypatch.setattr(download_module, "_downloader", lambda: network)
    return network


def pytest_collection_modifyitems(config, items):
    """Skip GPU-marked tests where there is no CUDA device."""
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="module")
def one_torch_thread():
    """Train on one thread: on a busy 2-core machine two threads make the episodes' runs several times slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
