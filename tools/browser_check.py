#!/usr/bin/env python
"""See a notebook's widgets work as a learner would: JupyterLab in headless Chromium.

Usage (from a checkout, with the course venv, playwright from PyPI and a Chromium, e.g. Debian's):
    .venv/bin/pip install playwright
    .venv/bin/python tools/browser_check.py episodes/06-model-fairness-hands-on.ipynb --out /tmp/shots --fast

It starts JupyterLab on 127.0.0.1 on a copy of the notebook (the checkout is never written), runs all cells, waits until the kernel is idle,
screenshots every ViewWidget (ipywidgets VBox with an Output), then moves each control once (slider:
ArrowRight x3; dropdown: next option; toggle buttons: next; button: click) and screenshots again,
reporting whether the widget's output image changed. Exit 1 if a control did not change its view.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("notebook", type=Path)
    ap.add_argument("--out", type=Path, default=Path("/tmp/shots"))
    ap.add_argument("--fast", action="store_true", help="TRUSTML_FAST=1 in the kernel")
    ap.add_argument("--timeout", type=int, default=600, help="seconds to wait for Run All")
    ap.add_argument("--max-controls", type=int, default=30)
    ap.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium", help="Chromium executable")
    args = ap.parse_args()
    nb = args.notebook.resolve()
    args.out.mkdir(parents=True, exist_ok=True)
    port, token = free_port(), secrets.token_hex(8)
    env = dict(os.environ, TRUSTML_OFFLINE="1", TRUSTML_FAST="1" if args.fast else "0")
    env.setdefault("PYTHONPATH", str(Path.cwd()))
    workdir = Path(tempfile.mkdtemp())
    # JupyterLab 4 renders only the cells in view ("windowing"); render them all, so every widget is in the page
    settings = workdir / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    (settings / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    env["JUPYTERLAB_SETTINGS_DIR"] = str(workdir / "settings")
    # run a copy, in a fresh workspace: JupyterLab saves the notebooks it opens, and restores the tabs of
    # the last session (a run-all could then go to another notebook)
    root = workdir / "root"
    root.mkdir()
    (root / nb.name).write_bytes(nb.read_bytes())
    lab_log = open(workdir / "lab.log", "w")  # noqa: SIM115 (closed in the finally below, with the server)
    lab = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter",
            "lab",
            "--no-browser",
            "--allow-root",
            f"--port={port}",
            "--ServerApp.ip=127.0.0.1",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}",
            f"--LabApp.workspaces_dir={workdir / 'workspaces'}",
            "--LabApp.news_url=None",
            "--LabApp.expose_app_in_browser=True",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ],
        env=env,
        cwd=workdir,
        stdout=lab_log,
        stderr=subprocess.STDOUT,
    )
    failures = 0
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright

        for _ in range(120):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.5)
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=args.chromium,
                args=[
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                ],
            )
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            t0 = time.time()
            page.goto(f"http://127.0.0.1:{port}/lab/tree/{nb.name}?token={token}")
            page.wait_for_selector(".jp-Notebook", timeout=120_000)
            page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=120_000)
            page.wait_for_function(
                "window.jupyterapp && window.jupyterapp.commands.hasCommand('notebook:run-all-cells')"
            )
            time.sleep(2)
            page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
            # done when every non-empty code cell has an execution count and the kernel is idle
            pending_js = """() => {
                const panel = window.jupyterapp.shell.currentWidget;
                const cells = panel.content.model.cells;
                let pending = 0;
                for (let i = 0; i < cells.length; i++) {
                    const cell = cells.get(i);
                    if (cell.type === 'code' && cell.sharedModel.getSource().trim() !== '' && cell.executionCount === null) pending++;
                }
                const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
                return [pending, kernel ? kernel.status : 'none'];
            }"""
            time.sleep(3)
            deadline = time.time() + args.timeout
            while time.time() < deadline:
                pending, status = page.evaluate(pending_js)
                if pending == 0 and status == "idle":
                    break
                time.sleep(1)
            else:
                print(f"TIMEOUT: {pending} code cells not run after {args.timeout} s")
                failures += 1
            print(f"run all finished in {time.time() - t0:.1f} s")
            errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
            tracebacks = page.locator(".jp-RenderedText[data-mime-type='application/vnd.jupyter.error']")
            print(f"error outputs: {tracebacks.count()}, stderr outputs: {errors.count()}")
            for i in range(tracebacks.count()):
                print("ERROR:", tracebacks.nth(i).inner_text()[:1500])
                failures += 1
            page.screenshot(path=str(args.out / "notebook.png"), full_page=False)
            views = page.locator(".widget-vbox:has(> .widget-output)")
            n = views.count()
            print(f"{n} view widget(s) found")
            for v in range(n):
                view = views.nth(v)
                view.scroll_into_view_if_needed()
                time.sleep(1)
                view.screenshot(path=str(args.out / f"widget{v}_before.png"))
                controls = view.locator(
                    ".widget-hslider, .widget-dropdown, .widget-toggle-buttons, .widget-button, .widget-select, .widget-checkbox"
                )
                for c in range(min(controls.count(), args.max_controls)):
                    control = controls.nth(c)
                    cls = control.get_attribute("class") or ""
                    out = view.locator(".widget-output").first
                    before = out.screenshot()
                    label = (control.inner_text() or "").strip().replace("\n", " ")[:40]
                    try:
                        if "widget-hslider" in cls:
                            handle = control.locator(".noUi-handle").first
                            handle.focus()
                            for _ in range(3):
                                page.keyboard.press("ArrowRight")
                            kind = "slider"
                        elif "widget-dropdown" in cls:
                            sel = control.locator("select")
                            opts = sel.locator("option")
                            cur = sel.input_value()
                            values = [opts.nth(k).get_attribute("value") for k in range(opts.count())]
                            nxt = values[(values.index(cur) + 1) % len(values)] if cur in values else values[-1]
                            sel.select_option(nxt)
                            kind = "dropdown"
                        elif "widget-toggle-buttons" in cls:
                            btns = control.locator("button")
                            btns.nth(btns.count() - 1).click()
                            kind = "toggle"
                        elif "widget-select" in cls:
                            sel = control.locator("select")
                            opts = sel.locator("option")
                            sel.select_option(opts.nth(opts.count() - 1).get_attribute("value"))
                            kind = "select"
                        elif "widget-checkbox" in cls:
                            control.locator("input").click()
                            kind = "checkbox"
                        else:
                            control.click()
                            kind = "button"
                    except PlaywrightError as err:  # report and go on
                        print(f"  widget {v} control {c} ({cls}): could not operate: {err}")
                        failures += 1
                        continue
                    time.sleep(2.5)
                    after = out.screenshot()
                    changed = before != after
                    print(
                        f"  widget {v} control {c} {kind:<8} {label!r}: view {'changed' if changed else 'DID NOT CHANGE'}"
                    )
                    failures += not changed
                    (args.out / f"widget{v}_control{c}_after.png").write_bytes(after)
                view.screenshot(path=str(args.out / f"widget{v}_after.png"))
            browser.close()
    finally:
        lab.terminate()
        lab.wait(10)
        lab_log.close()
    print(f"screenshots in {args.out}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
