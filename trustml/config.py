"""Settings read from the environment: data directory, offline and fast switches.

=================  ===========================================================
``TRUSTML_DATA``     where datasets are cached (default: the checkout's ``data/``
                     when trustml runs from a checkout, else a user cache dir)
``TRUSTML_OFFLINE``  ``1`` never touches the network: embedded defaults only
``TRUSTML_FAST``     ``1`` shrinks subsets and epochs (CI, quick demos)
=================  ===========================================================

The settings are read each time they are asked for, so a notebook or a test can
change ``os.environ`` and see the effect at once.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Settings", "fast_or_full", "settings"]

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}
_CHECKOUT = Path(__file__).resolve().parent.parent


def _flag(name: str) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(
        f"{name}={os.environ[name]!r} is not a switch: set it to 1 (on) or 0 (off); "
        f"allowed values are {', '.join(sorted(_TRUE))} (on) and {', '.join(sorted(_FALSE - {''}))} or empty (off)."
    )


def _default_data_dir() -> Path:
    if (_CHECKOUT / "pyproject.toml").is_file() and (_CHECKOUT / "data").is_dir():
        return _CHECKOUT / "data"
    import pooch

    return Path(pooch.os_cache("trustml"))


@dataclass(frozen=True)
class Settings:
    """A snapshot of trustml's settings (see the module docstring)."""

    data_dir: Path
    offline: bool
    fast: bool

    def __str__(self) -> str:
        """The settings in plain words, one per line (what ``print(trustml.settings())`` shows)."""
        if self.offline:
            network = "offline: stand-ins only, plus datasets already cached (TRUSTML_OFFLINE=0 allows downloads)"
        else:
            network = "downloads allowed (TRUSTML_OFFLINE=1: never download)"
        if self.fast:
            mode = "fast mode: small subsets and few epochs (TRUSTML_FAST=0 for full runs)"
        else:
            mode = "full mode (TRUSTML_FAST=1: small subsets and few epochs)"
        return f"data dir: {self.data_dir} (TRUSTML_DATA)\n{network}\n{mode}"

    @classmethod
    def from_env(cls) -> Settings:
        """Read the settings from the environment variables."""
        data = os.environ.get("TRUSTML_DATA", "").strip()
        return cls(
            data_dir=Path(data).expanduser() if data else _default_data_dir(),
            offline=_flag("TRUSTML_OFFLINE"),
            fast=_flag("TRUSTML_FAST"),
        )


def settings() -> Settings:
    """Return the current settings, read from the environment now.

    Examples
    --------
    >>> from trustml import settings
    >>> isinstance(settings().fast, bool)
    True
    """
    return Settings.from_env()


def fast_or_full(full, fast):
    """Return ``fast`` when ``TRUSTML_FAST=1``, else ``full``.

    Notebooks use it for the few numbers that fast mode shrinks, so that both
    modes run the same code::

        EPOCHS = fast_or_full(full=10, fast=2)
    """
    return fast if settings().fast else full
