"""Figures that are drawn once and then changed in place: the fast path of every course widget.

A :class:`LiveFigure` builds its axes and everything no control changes once,
and :meth:`LiveFigure.update` moves the rest (data, colours, texts) to new
values. The same class draws a view statically (build, update once, show the
figure) and in a widget (update on every control move, encode a PNG), so the
two cannot drift apart.

Three things make a frame cheap: only the artists an update changes are drawn
again, over a cached background; a panel whose artists did not change is not
drawn at all (its pixels stay from the last frame); and the glyphs of a text
drawn before at the same place are pasted from a cache (matplotlib renders text
glyph by glyph, which is most of a frame's cost otherwise).
"""

from __future__ import annotations

import functools
import math
from collections import OrderedDict

import numpy as np

__all__ = ["LiveFigure", "figure_png"]

#: Resolution of widget frames: sharp enough on a laptop screen, cheap to draw and encode.
WIDGET_DPI = 80


class LiveFigure:
    """A matplotlib figure built once and updated in place for new values.

    Subclasses build their artists in ``__init__`` (after calling this
    ``__init__``) and change them in :meth:`update`, which returns ``self``.
    The artists that :meth:`update` changes are grouped in panels
    (:meth:`add_panel`): an area of the figure (an Axes, a SubFigure or the
    Figure) and the artists drawn in it, in drawing order (a whole Axes may be
    one of them). :meth:`png` draws everything else once and keeps it as a
    background; on later calls it draws again only the panels in which an
    artist changed (matplotlib marks a changed artist *stale*). An update that
    changes anything outside the panels (axis limits of an Axes that is not
    itself in a panel, a figure title) calls :meth:`invalidate`.

    Parameters
    ----------
    figsize : tuple of float
        Width and height in inches.
    pyplot : bool, default False
        Register the figure with pyplot, as ``plt.figure`` does (a static view
        is then shown by the inline backend at the end of a cell); a widget's
        figure is not registered, so that it is only ever shown as its frames.

    Attributes
    ----------
    figure : matplotlib.figure.Figure
    panels : list of (area, list of artists)

    Examples
    --------
    >>> import numpy as np
    >>> from trustml.widgets import LiveFigure
    >>> class Wave(LiveFigure):
    ...     def __init__(self):
    ...         super().__init__(figsize=(4, 2))
    ...         ax = self.figure.add_subplot()
    ...         ax.set_ylim(-1, 1)
    ...         self.x = np.linspace(0, 6, 100)
    ...         (self.line,) = ax.plot(self.x, np.sin(self.x))
    ...         self.add_panel(ax, [self.line])
    ...     def update(self, *, phase):
    ...         self.line.set_ydata(np.sin(self.x + phase))
    ...         return self
    >>> wave = Wave()
    >>> wave.update(phase=1.0).png()[:4]
    b'\\x89PNG'
    """

    def __init__(self, *, figsize, pyplot: bool = False):
        if pyplot:
            import matplotlib.pyplot as plt

            self.figure = plt.figure(figsize=figsize)
        else:
            from matplotlib.figure import Figure

            self.figure = Figure(figsize=figsize)
        self.panels = []
        self._background = None
        self._canvas = None

    def add_panel(self, area, artists) -> list:
        """Declare that ``artists`` (drawn in this order) change between frames, all inside ``area``.

        ``area`` is an Axes, a SubFigure, the Figure or a ``Bbox`` in display
        coordinates (e.g. a ``TransformedBbox`` of part of a subfigure); the
        panels of a figure must not overlap.

        Returns the list, which :meth:`update` may change (e.g. swap in a new legend).
        """
        artists = list(artists)
        self.panels.append((area, artists))
        return artists

    def update(self, **values) -> LiveFigure:
        """Change the figure's artists to show ``values``; returns ``self``."""
        raise NotImplementedError(f"{type(self).__name__} must define update(**values)")

    def invalidate(self) -> None:
        """Say that the next :meth:`png` must draw the whole figure (the background changed)."""
        self._background = None

    def png(self, *, dpi: int = WIDGET_DPI) -> bytes:
        """The figure as PNG bytes at ``dpi``, drawing again only what changed since the last frame."""
        if self._canvas is None:
            self._canvas = _canvas_class()(self.figure)
        canvas = self._canvas
        if self._background is None or self.figure.dpi != dpi:
            self.figure.set_dpi(dpi)
            for _, artists in self.panels:
                for artist in artists:
                    artist.set_animated(True)  # left out of the full draw
            canvas.draw()
            self._background = canvas.copy_from_bbox(self.figure.bbox)
            dirty = self.panels
        else:
            dirty = [(area, artists) for area, artists in self.panels if any(a.stale for a in artists)]
            for area, _ in dirty:
                # xy: where the region's own corner goes (the whole figure's), not the box's
                canvas.restore_region(self._background, bbox=_pixel_box(area, canvas), xy=(0, 0))
        renderer = canvas.get_renderer()
        for _, artists in dirty:
            for artist in artists:
                artist.set_animated(True)  # e.g. a legend made by this update
                artist.draw(renderer)
                artist.stale = False  # also when drawing was nothing (an empty text stays stale otherwise)
        return _encode(canvas)


def figure_png(figure, *, dpi: int = WIDGET_DPI) -> bytes:
    """Any matplotlib figure drawn in full at ``dpi`` and encoded as PNG (as :meth:`LiveFigure.png` encodes).

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> from trustml.widgets import figure_png
    >>> figure_png(Figure(figsize=(2, 1)))[:4]
    b'\\x89PNG'
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    figure.set_dpi(dpi)
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    return _encode(canvas)


def _pixel_box(area, canvas) -> tuple:
    """The whole pixels covering ``area`` (an artist with a ``bbox``, or a Bbox), as Agg's restore_region wants them."""
    x0, y0, x1, y1 = getattr(area, "bbox", area).extents
    height = canvas.get_renderer().height
    # Agg counts rows from the top
    return (max(0, math.floor(x0)), max(0, math.floor(height - y1)), math.ceil(x1), math.ceil(height - y0))


def _encode(canvas) -> bytes:
    """The canvas as an RGB PNG, compressed lightly (zlib's level 1 is many times faster than the default).

    OpenCV's encoder, with its colour conversion, takes about two thirds of Pillow's time for a frame.
    """
    import cv2

    bgr = cv2.cvtColor(np.asarray(canvas.buffer_rgba()), cv2.COLOR_RGBA2BGR)
    ok, png = cv2.imencode(".png", bgr, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    if not ok:  # pragma: no cover (OpenCV reports failure instead of raising)
        raise RuntimeError("OpenCV could not encode the frame as PNG.")
    return png.tobytes()


def _text_caching_renderer():
    """A RendererAgg that keeps the glyph bitmaps of each text it drew, by text, font and position."""
    from matplotlib.backends.backend_agg import RendererAgg

    class TextCachingRenderer(RendererAgg):
        capacity = 4096

        def __init__(self, width, height, dpi):
            super().__init__(width, height, dpi)
            self._glyphs = OrderedDict()

        def draw_text(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):
            if ismath:
                return super().draw_text(gc, x, y, s, prop, angle, ismath, mtext)
            features = mtext.get_fontfeatures() if mtext is not None and hasattr(mtext, "get_fontfeatures") else None
            language = mtext.get_language() if mtext is not None and hasattr(mtext, "get_language") else None
            key = (s, hash(prop), angle, gc.get_antialiased(), round(64 * x), round(64 * y),
                   str(features), str(language))  # fmt: skip
            glyphs = self._glyphs.get(key)
            if glyphs is None:
                glyphs = self._record(gc, x, y, s, prop, angle, mtext)
                if glyphs is not None:
                    self._glyphs[key] = glyphs
                    if len(self._glyphs) > self.capacity:
                        self._glyphs.popitem(last=False)
            else:
                self._glyphs.move_to_end(key)
                for image, gx, gy in glyphs:
                    self._renderer.draw_text_image(image, gx, gy, 0, gc)

        def _record(self, gc, x, y, s, prop, angle, mtext):
            """Draw the text as matplotlib does, keeping a copy of every glyph bitmap it pastes."""
            real, recorder = self._renderer, _GlyphRecorder(self._renderer)
            self._renderer = recorder
            try:
                super().draw_text(gc, x, y, s, prop, angle, False, mtext)
            finally:
                self._renderer = real
            return recorder.glyphs if recorder.replayable else None

    return TextCachingRenderer


class _GlyphRecorder:
    """Stands in for Agg's C++ renderer while a text is drawn, recording the glyph images pasted."""

    def __init__(self, target):
        self._target = target
        self.glyphs = []
        self.replayable = True

    def draw_text_image(self, image, x, y, angle, gc):
        self._target.draw_text_image(image, x, y, angle, gc)
        # matplotlib >= 3.10 pastes each glyph as an array, rotation already applied; older
        # versions paste a whole rotated font object: such a text is drawn anew every time
        if angle != 0 or not isinstance(image, np.ndarray):
            self.replayable = False
        else:
            self.glyphs.append((image.copy(), x, y))

    def __getattr__(self, name):
        return getattr(self._target, name)


@functools.cache
def _canvas_class():
    """The Agg canvas class of live figures (made on first use, so that matplotlib is imported only then)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer_class = _text_caching_renderer()

    class TextCachingCanvas(FigureCanvasAgg):
        """An Agg canvas whose renderer caches text glyphs (it lives as long as its LiveFigure)."""

        def get_renderer(self):
            w, h = self.get_width_height(physical=True)
            key = w, h, self.figure.dpi
            if self._lastKey != key:
                self.renderer = renderer_class(w, h, self.figure.dpi)
                self._lastKey = key
            return self.renderer

    return TextCachingCanvas
