#!/usr/bin/env python
"""See a notebook's widgets work as a learner would: JupyterLab in headless Chromium.

Usage (from a checkout, with the course venv, playwright from PyPI and a Chromium, e.g. Debian's):
    .venv/bin/pip install playwright
    .venv/bin/python tools/browser_check.py episodes/06-model-fairness-hands-on.ipynb --out /tmp/shots --fast
    .venv/bin/python tools/browser_check.py --floor          # the same measurements on a bare matplotlib interact

It starts JupyterLab on 127.0.0.1 on a copy of the notebook (the checkout is never written) with the
course's JupyterLab settings, runs all cells, waits until the kernel is idle, screenshots every widget
(a trustml ViewWidget, or an ipywidgets interact), then moves each control once (slider: ArrowRight x3;
dropdown: next option; toggle buttons: the last; button: click) and reports whether the view changed and
how long it took from the move to the last change of the view (the view has settled when it has not
changed for half a second). Each slider is then dragged: ten steps 40 ms apart, and the time from the
last step to the last redraw is reported beside one redraw's time. Exit 1 if a control did not change
its view or a cell raised.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONTROLS = ".widget-hslider, .widget-dropdown, .widget-toggle-buttons, .widget-button, .widget-select, .widget-checkbox"
VIEWS = ".trustml-view, .widget-interact"
FRAME = ".trustml-frame, .widget-output"
SETTLE_S = 0.5  # a view that has not changed for this long has finished redrawing

# Watches a view's frame and keeps the page-clock time of every change (a new image, new table HTML).
WATCH_JS = """(view) => {
    const frame = view.querySelector('.trustml-frame') || view.querySelector('.widget-output');
    view.__changes = [];
    if (view.__observer) view.__observer.disconnect();
    view.__observer = new MutationObserver(() => view.__changes.push(performance.now()));
    view.__observer.observe(frame, {subtree: true, childList: true, attributes: true, characterData: true});
    return performance.now();
}"""


@dataclass
class ControlResult:
    widget: int
    control: int
    kind: str
    label: str
    changed: bool
    seconds: float | None  # move to the view's last change
    drag_seconds: float | None = None  # last of ten drag steps to the view's last change


@dataclass
class Report:
    notebook: str
    run_all_seconds: float
    first_widget_seconds: float | None  # page opened to the first widget drawn
    errors: list = field(default_factory=list)
    stderr_outputs: int = 0
    widgets: int = 0
    controls: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and all(c.changed for c in self.controls)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def floor_notebook(folder: Path) -> Path:
    """A notebook with two bare ipywidgets interacts over matplotlib: the floor the course's widgets are held to."""
    import nbformat

    code = [
        "%matplotlib inline\nimport matplotlib.pyplot as plt\nimport numpy as np\nfrom ipywidgets import interact",
        "@interact(slope=(0.0, 2.0, 0.05))\ndef line(slope=1.0):\n    x = np.linspace(0, 1, 50)\n"
        "    plt.figure(figsize=(6, 3))\n    plt.plot(x, slope * x)\n    plt.ylim(0, 2)\n    plt.show()",
        "@interact(colour=['C0', 'C1', 'C2', 'C3'])\ndef dots(colour='C0'):\n"
        "    plt.figure(figsize=(6, 3))\n    plt.scatter(np.arange(20), np.arange(20) % 7, color=colour)\n    plt.show()",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in code])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = folder / "bare-matplotlib-interact.ipynb"
    nbformat.write(nb, path)
    return path


def check(notebook: Path, out: Path, *, fast: bool = True, timeout: int = 600, max_controls: int = 30,
          chromium: str | None = None, drag: bool = True, log=print) -> Report:  # fmt: skip
    """Run ``notebook`` in JupyterLab in headless Chromium, move every widget control, time the redraws."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    notebook = Path(notebook).resolve()
    out.mkdir(parents=True, exist_ok=True)
    port, token = free_port(), secrets.token_hex(8)
    env = dict(os.environ, TRUSTML_OFFLINE="1", TRUSTML_FAST="1" if fast else "0")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    workdir = Path(tempfile.mkdtemp(prefix="trustml-browser-"))
    # JupyterLab 4 renders only the cells in view ("windowing"); render them all, so every widget is in the page
    settings = workdir / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    (settings / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    env["JUPYTERLAB_SETTINGS_DIR"] = str(workdir / "settings")
    # run a copy, in a fresh workspace: JupyterLab saves the notebooks it opens, and restores the tabs of
    # the last session (a run-all could then go to another notebook)
    root = workdir / "root"
    root.mkdir()
    (root / notebook.name).write_bytes(notebook.read_bytes())
    lab_log = open(workdir / "lab.log", "w")  # noqa: SIM115 (closed in the finally below, with the server)
    lab = subprocess.Popen(
        [
            sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root", f"--port={port}",
            "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
            f"--LabApp.workspaces_dir={workdir / 'workspaces'}", f"--LabApp.app_settings_dir={ROOT / 'lab-settings'}",
            "--LabApp.expose_app_in_browser=True",
        ],
        env=env, cwd=workdir, stdout=lab_log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    report = Report(notebook=notebook.name, run_all_seconds=float("nan"), first_widget_seconds=None)
    try:
        for _ in range(240):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.5)
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=chromium or shutil.which("chromium") or "/usr/bin/chromium",
                args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
            )  # fmt: skip
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            start = time.time()
            page.goto(f"http://127.0.0.1:{port}/lab/tree/{notebook.name}?token={token}")
            page.wait_for_selector(".jp-Notebook", timeout=180_000)
            page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=180_000)
            page.wait_for_function("window.jupyterapp && window.jupyterapp.commands.hasCommand('notebook:run-all-cells')")
            page.wait_for_function(_KERNEL_READY_JS, timeout=180_000)
            page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
            report.run_all_seconds, report.first_widget_seconds = _wait_for_run_all(page, start, timeout, report)
            log(f"run all finished in {report.run_all_seconds:.1f} s; first widget drawn after "
                f"{report.first_widget_seconds if report.first_widget_seconds is not None else float('nan'):.1f} s")
            tracebacks = page.locator(".jp-RenderedText[data-mime-type='application/vnd.jupyter.error']")
            report.stderr_outputs = page.locator(
                ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").count()
            for i in range(tracebacks.count()):
                report.errors.append(tracebacks.nth(i).inner_text()[:1500])
                log("ERROR:", report.errors[-1])
            log(f"error outputs: {len(report.errors)}, stderr outputs: {report.stderr_outputs}")
            page.screenshot(path=str(out / "notebook.png"), full_page=False)
            views = page.locator(VIEWS)
            report.widgets = views.count()
            log(f"{report.widgets} widget(s) found")
            for v in range(report.widgets):
                view = views.nth(v)
                view.scroll_into_view_if_needed()
                time.sleep(1)
                view.screenshot(path=str(out / f"widget{v}_before.png"))
                controls = view.locator(CONTROLS)
                for c in range(min(controls.count(), max_controls)):
                    try:
                        result = _move(page, view, controls.nth(c), v, c, drag=drag)
                    except PlaywrightError as err:  # report and go on
                        report.errors.append(f"widget {v} control {c}: could not operate: {err}")
                        log(report.errors[-1])
                        continue
                    report.controls.append(result)
                    took = f"{1000 * result.seconds:6.0f} ms" if result.seconds is not None else "       -"
                    dragged = (f", drag ends {1000 * result.drag_seconds:5.0f} ms after the hand stops"
                               if result.drag_seconds is not None else "")  # fmt: skip
                    log(f"  widget {v} control {c} {result.kind:<8} {result.label!r:<42} "
                        f"{'changed' if result.changed else 'DID NOT CHANGE'} {took}{dragged}")
                    view.locator(FRAME).first.screenshot(path=str(out / f"widget{v}_control{c}_after.png"))
                view.screenshot(path=str(out / f"widget{v}_after.png"))
            browser.close()
    finally:
        lab.terminate()
        lab.wait(10)
        lab_log.close()
    (out / "report.json").write_text(json.dumps({**asdict(report), "ok": report.ok}, indent=1))
    log(f"screenshots and report.json in {out}")
    return report


# the notebook is open in the current tab and its kernel has started and is idle: Run All will reach it
_KERNEL_READY_JS = """() => {
    const panel = window.jupyterapp.shell.currentWidget;
    if (!panel || !panel.sessionContext || !panel.context || !panel.context.isReady) return false;
    const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
    return !!kernel && kernel.status === 'idle' && kernel.connectionStatus === 'connected';
}"""


def _wait_for_run_all(page, start, timeout, report):
    """Wait until every non-empty code cell has run and the kernel is idle; also note when a widget first drew."""
    pending_js = """() => {
        const panel = window.jupyterapp.shell.currentWidget;
        const cells = panel.content.model.cells;
        let pending = 0;
        for (let i = 0; i < cells.length; i++) {
            const cell = cells.get(i);
            if (cell.type === 'code' && cell.sharedModel.getSource().trim() !== '' && cell.executionCount === null) pending++;
        }
        const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
        const drawn = document.querySelectorAll('.trustml-frame img, .widget-interact .widget-output img').length;
        const failed = document.querySelectorAll(".jp-RenderedText[data-mime-type='application/vnd.jupyter.error']").length;
        return [pending, kernel ? kernel.status : 'none', drawn, failed];
    }"""
    time.sleep(3)
    first_widget = None
    deadline = time.time() + timeout
    while time.time() < deadline:
        pending, status, drawn, failed = page.evaluate(pending_js)
        if drawn and first_widget is None:
            first_widget = time.time() - start
        if status == "idle" and (pending == 0 or failed):  # Run All stops at a cell that raised
            return time.time() - start, first_widget
        time.sleep(0.5)
    page.screenshot(path=str(Path(tempfile.gettempdir()) / "browser_check_timeout.png"))
    report.errors.append(f"TIMEOUT: {pending} code cells not run after {timeout} s (kernel {status}; "
                         f"screenshot in {tempfile.gettempdir()}/browser_check_timeout.png)")
    return time.time() - start, first_widget


def _settle(page, view, t0: float):
    """Wait until the view has not changed for SETTLE_S; seconds from ``t0`` (page clock, ms) to its last change."""
    deadline = time.time() + 30
    last_count, quiet_since = -1, time.time()
    while time.time() < deadline:
        count = view.evaluate("(view) => view.__changes.length")
        if count != last_count:
            last_count, quiet_since = count, time.time()
        elif time.time() - quiet_since >= SETTLE_S:
            break
        time.sleep(0.02)
    changes = view.evaluate("(view) => view.__changes")
    return (max(changes) - t0) / 1000 if changes else None


def _move(page, view, control, v: int, c: int, *, drag: bool) -> ControlResult:
    """Operate one control once (and drag it, if a slider); how long until the view showed the result."""
    cls = control.get_attribute("class") or ""
    label = (control.inner_text() or "").strip().replace("\n", " ")[:40]
    frame = view.locator(FRAME).first
    before = frame.screenshot()
    t0 = view.evaluate(WATCH_JS)
    if "widget-hslider" in cls:
        kind = "slider"
        control.locator(".noUi-handle").first.focus()
        t0 = view.evaluate(WATCH_JS)
        for _ in range(3):
            page.keyboard.press("ArrowRight")
    elif "widget-dropdown" in cls:
        kind = "dropdown"
        select = control.locator("select")
        options = select.locator("option")
        current = select.input_value()
        values = [options.nth(k).get_attribute("value") for k in range(options.count())]
        select.select_option(values[(values.index(current) + 1) % len(values)] if current in values else values[-1])
    elif "widget-toggle-buttons" in cls:
        kind = "toggle"
        buttons = control.locator("button")
        buttons.nth(buttons.count() - 1).click()
    elif "widget-select" in cls:
        kind = "select"
        select = control.locator("select")
        options = select.locator("option")
        select.select_option(options.nth(options.count() - 1).get_attribute("value"))
    elif "widget-checkbox" in cls:
        kind = "checkbox"
        control.locator("input").click()
    else:
        kind = "button"
        sliders = view.locator(".widget-hslider")
        if sliders.count():  # a button may set what an earlier button set: move a slider first, then click
            sliders.first.locator(".noUi-handle").first.focus()
            page.keyboard.press("ArrowRight")
            _settle(page, view, t0)
            before = frame.screenshot()
            t0 = view.evaluate(WATCH_JS)
        control.click()
    seconds = _settle(page, view, t0)
    changed = frame.screenshot() != before
    drag_seconds = None
    if drag and kind == "slider":
        control.locator(".noUi-handle").first.focus()
        for step in range(10):
            if step == 9:
                t0 = view.evaluate(WATCH_JS)  # the hand stops with this step
            page.keyboard.press("ArrowLeft")
            time.sleep(0.04)
        drag_seconds = _settle(page, view, t0)
    return ControlResult(v, c, kind, label, changed, seconds, drag_seconds)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebook", type=Path, nargs="?")
    ap.add_argument("--floor", action="store_true", help="measure a bare matplotlib interact instead")
    ap.add_argument("--out", type=Path, default=Path("/tmp/shots"))
    ap.add_argument("--fast", action="store_true", help="TRUSTML_FAST=1 in the kernel")
    ap.add_argument("--timeout", type=int, default=600, help="seconds to wait for Run All")
    ap.add_argument("--max-controls", type=int, default=30)
    ap.add_argument("--no-drag", action="store_true", help="skip the ten-step drag of each slider")
    ap.add_argument("--chromium", default=None, help="Chromium executable (default: chromium on the PATH)")
    args = ap.parse_args()
    if args.floor:
        args.notebook = floor_notebook(Path(tempfile.mkdtemp()))
    if args.notebook is None:
        ap.error("name a notebook, or --floor")
    report = check(args.notebook, args.out, fast=args.fast, timeout=args.timeout, max_controls=args.max_controls,
                   chromium=args.chromium, drag=not args.no_drag)  # fmt: skip
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
