"""Write constraints.txt: the exact versions of everything the course installs, from the environment it last ran in.

    .venv/bin/python tools/freeze_constraints.py        # rewrites constraints.txt at the top of the checkout

The pins are the dependency closure of trustml's requirements (pyproject.toml: the core
dependencies and every extra), as installed in the running Python, less trustml itself,
the packaging tools (pip, setuptools, wheel) and the GPU wheels that torch picks per
platform (nvidia-*, cuda-*, triton): torch's own metadata pins those exactly, and another
platform or a CUDA build of torch needs others. A package that only some platforms
install (colorama on Windows, say) is not installed here, so it is not pinned.
Install against the file with ``pip install -e '.[dev]' -c constraints.txt``
(``make lab CONSTRAINTS=constraints.txt``).
"""

from __future__ import annotations

import datetime
import importlib.metadata
import platform
import re
import sys
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "constraints.txt"
EXCLUDED_NAMES = {"trustml", "pip", "setuptools", "wheel"}
EXCLUDED_PREFIXES = ("nvidia-", "cuda-", "triton")


def excluded(name: str) -> bool:
    """Whether a distribution stays unpinned (see the module docstring)."""
    name = canonicalize_name(name)
    return name in EXCLUDED_NAMES or name.startswith(EXCLUDED_PREFIXES)


def project_requirements(pyproject: Path = ROOT / "pyproject.toml") -> list[Requirement]:
    """trustml's core requirements and those of every extra."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib

    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    lines = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        lines += extra
    return [Requirement(line) for line in lines]


def _applies(requirement: Requirement, extras: set[str]) -> bool:
    if requirement.marker is None:
        return True
    return any(requirement.marker.evaluate({"extra": extra}) for extra in (extras or {""}))


def closure(requirements: list[Requirement]) -> dict[str, importlib.metadata.Distribution]:
    """Every installed distribution these requirements pull in here (markers evaluated), by canonical name."""
    found: dict[str, importlib.metadata.Distribution] = {}
    wanted: dict[str, set[str]] = {}
    queue = [(requirement, set()) for requirement in requirements]
    while queue:
        requirement, parent_extras = queue.pop()
        if not _applies(requirement, parent_extras):
            continue
        name = canonicalize_name(requirement.name)
        extras = set(requirement.extras)
        if name in wanted and extras <= wanted[name]:
            continue
        wanted.setdefault(name, set()).update(extras)
        try:
            distribution = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            raise SystemExit(f"{requirement} is required but not installed here: install the course first.") from None
        found[name] = distribution
        queue += [(Requirement(line), wanted[name]) for line in distribution.requires or []]
    return found


def python_floor(distributions) -> Version | None:
    """The highest lower bound of the distributions' Requires-Python: the oldest Python all these pins support."""
    floors = []
    for distribution in distributions:
        for spec in SpecifierSet(distribution.metadata.get("Requires-Python") or ""):
            if spec.operator in {">=", ">", "~="}:
                floors.append(Version(spec.version))
    return max(floors, default=None)


def render(distributions: dict[str, importlib.metadata.Distribution]) -> str:
    pins = {name: d for name, d in distributions.items() if not excluded(name)}
    floor = python_floor(pins.values())
    today = datetime.date.today().isoformat()
    header = [
        "# The versions the course was last run with: pip install -e '.[dev]' -c constraints.txt",
        f"# Written by tools/freeze_constraints.py on {today} from Python {platform.python_version()} "
        f"({platform.system()} {platform.machine()}).",
        f"# These pins need Python {floor} or newer (the highest Requires-Python among them).",
        "# Not pinned: trustml, pip/setuptools/wheel, and the GPU wheels torch chooses per platform "
        "(nvidia-*, cuda-*, triton).",
    ]
    lines = [f"{distributions[name].metadata['Name']}=={re.sub(r'[+].*$', '', distributions[name].version)}"
             for name in sorted(pins)]
    return "\n".join(header + lines) + "\n"


def main() -> int:
    OUTPUT.write_text(render(closure(project_requirements())), encoding="utf-8")
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
