"""What a learner sees of a widget, decoded from its frame, and the check that it equals the static view."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from trustml.widgets import figure_png


def frames(widget) -> list:
    """The widget's images as (H, W, 3) uint8 arrays, in the order the frame shows them."""
    return [_decode(child.value) for child in widget.frame.children if type(child).__name__ == "Image"]


def assert_same_picture(widget, figure, *, index: int = 0, max_differing: float = 1e-4) -> None:
    """The widget's ``index``-th image equals ``figure`` (the static view for the same values) drawn alike.

    Pixel-close: at most ``max_differing`` of the pixels may differ (the fast path draws changed artists
    over a cached background, where anti-aliased edges can differ in a few pixels).
    """
    live = frames(widget)[index]
    static = _decode(figure_png(figure))
    assert live.shape == static.shape, f"the widget draws {live.shape}, the static view {static.shape}"
    differing = (live != static).any(axis=-1).mean()
    assert differing <= max_differing, f"{differing:.4%} of the pixels differ from the static view"


def assert_each_move_redraws(widget, moves, static=None) -> None:
    """Every ``(control, value)`` move changes the widget's picture; and equals ``static(**values)`` if given."""
    for key, value in moves:
        before = frames(widget)
        widget.controls[key].value = value
        after = frames(widget)
        assert len(before) != len(after) or any(
            b.shape != a.shape or (b != a).any() for b, a in zip(before, after)
        ), f"moving {key} to {value!r} changed nothing a learner sees"
        if static is not None:
            assert_same_picture(widget, static(**widget.values))


def _decode(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
