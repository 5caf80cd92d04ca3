"""constraints.txt pins the versions the course was last run with, and installs on a fresh laptop.

Checked: every direct dependency is pinned inside pyproject.toml's range; nothing is pinned that
pip picks per platform (torch's GPU wheels) or that would not install elsewhere (a local
version label such as +cu126); the pins agree with each other (each pinned package's own
requirements, read from its installed metadata, accept the other pins); the header states the
Python the pins need; `make CONSTRAINTS=constraints.txt` and the README install against it.
"""

import importlib.metadata
import importlib.util
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
CONSTRAINTS = ROOT / "constraints.txt"


def load_tool():
    spec = importlib.util.spec_from_file_location("freeze_constraints", ROOT / "tools" / "freeze_constraints.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


freeze = load_tool()


def read_pins(text):
    pins = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._\-]*)==([^\s;]+)", line)
        assert match, f"not a plain name==version pin: {line!r}"
        name = canonicalize_name(match.group(1))
        assert name not in pins, f"{name} is pinned twice"
        pins[name] = Version(match.group(2))
    return pins


PINS = read_pins(CONSTRAINTS.read_text())


def installed_version(name):
    try:
        return Version(importlib.metadata.distribution(name).version)
    except importlib.metadata.PackageNotFoundError:
        return None


def test_every_direct_dependency_is_pinned_inside_its_range():
    for requirement in freeze.project_requirements():
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue  # e.g. tomli, only for Python < 3.11
        name = canonicalize_name(requirement.name)
        assert name in PINS, f"{requirement} is not pinned in constraints.txt"
        pinned = PINS[name]
        assert requirement.specifier.contains(pinned, prereleases=True), f"{name}=={pinned} breaks {requirement}"


def test_nothing_is_pinned_that_would_not_install_on_another_machine():
    assert "trustml" not in PINS and "pip" not in PINS and "setuptools" not in PINS
    assert not [name for name in PINS if freeze.excluded(name)]  # nvidia-*, cuda-*, triton: torch picks them
    assert all(not version.local for version in PINS.values())  # torch==2.x, never torch==2.x+cu126
    assert {"torch", "torchvision", "numpy", "jupyterlab"} <= set(PINS)


def test_the_pins_agree_with_each_other():
    checked = 0
    for name, version in PINS.items():
        try:
            distribution = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        if Version(distribution.version).public != version.public:
            continue  # another version is installed here: its metadata says nothing about the pinned one
        checked += 1
        for line in distribution.requires or []:
            requirement = Requirement(line)
            if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
                continue
            other = canonicalize_name(requirement.name)
            if other in PINS:
                assert requirement.specifier.contains(PINS[other], prereleases=True), (
                    f"{name}=={version} needs {requirement}, but constraints.txt pins {other}=={PINS[other]}"
                )
    assert checked >= len(PINS) // 2, "most pins should match this environment (regenerate constraints.txt?)"


def test_the_header_states_the_python_the_pins_need():
    header = CONSTRAINTS.read_text().splitlines()[:4]
    assert header[0] == "# The versions the course was last run with: pip install -e '.[dev]' -c constraints.txt"
    floor = Version(re.search(r"need Python (\S+) or newer", "\n".join(header)).group(1))
    installed = [importlib.metadata.distribution(n) for n, v in PINS.items() if installed_version(n) == v]
    assert floor >= freeze.python_floor(installed)


def test_the_tool_writes_the_closure_of_this_environment():
    text = freeze.render(freeze.closure(freeze.project_requirements()))
    written = read_pins(text)
    assert {"torch", "huggingface-hub", "safetensors", "ipykernel", "pytest"} <= set(written)  # direct and transitive
    assert not [name for name in written if freeze.excluded(name)]
    assert written["torch"] == Version(Version(importlib.metadata.version("torch")).public)  # no +cu label
    assert f"need Python {freeze.python_floor([importlib.metadata.distribution(n) for n in written])} or newer" in text


def test_make_installs_against_the_constraints_when_asked():
    if shutil.which("make") is None:
        pytest.skip("make is not installed: cannot dry-run the Makefile")
    asked = subprocess.run(["make", "-n", "-B", "test", "CONSTRAINTS=constraints.txt"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout
    assert "pip install -e '.[dev]' -c constraints.txt" in asked
    plain = subprocess.run(["make", "-n", "-B", "test"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert "pip install -e '.[dev]'" in plain and "-c constraints.txt" not in plain
    readme = (ROOT / "README.md").read_text()
    assert "pip install -e '.[dev]' -c constraints.txt" in readme and "make lab CONSTRAINTS=constraints.txt" in readme
