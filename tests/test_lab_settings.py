"""`make lab` opens JupyterLab with the course's settings: no news pop-up, no update check (no request to a website).

The settings are JupyterLab overrides (lab-settings/overrides.json, passed as LabApp.app_settings_dir):
they change the defaults of JupyterLab's own settings schemas, and a learner's own settings still win.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import jsonschema
import pytest

ROOT = Path(__file__).resolve().parents[1]
SETTINGS_DIR = ROOT / "lab-settings"
NOTIFICATIONS = "@jupyterlab/apputils-extension:notification"


def schemas_dir() -> Path:
    from jupyterlab.commands import get_app_dir

    return Path(get_app_dir()) / "schemas"


def test_every_override_is_a_valid_value_of_a_jupyterlab_setting():
    overrides = json.loads((SETTINGS_DIR / "overrides.json").read_text())
    assert overrides[NOTIFICATIONS] == {"fetchNews": "false", "checkForUpdates": False}
    for plugin, values in overrides.items():
        package, name = plugin.split(":")
        schema = json.loads((schemas_dir() / package / f"{name}.json").read_text())
        for key, value in values.items():
            assert key in schema["properties"], f"{plugin} has no setting {key!r}"
            jsonschema.validate(value, schema["properties"][key])


def test_jupyterlab_reads_the_overrides_as_its_defaults(tmp_path):
    from jupyterlab_server.settings_utils import get_settings

    settings, warnings = get_settings(
        str(SETTINGS_DIR), str(schemas_dir()), str(tmp_path), schema_name=NOTIFICATIONS
    )
    properties = settings["schema"]["properties"]
    assert properties["fetchNews"]["default"] == "false" and properties["checkForUpdates"]["default"] is False
    assert warnings == [None]
    (tmp_path / "empty").mkdir()
    plain, _ = get_settings(str(tmp_path / "empty"), str(schemas_dir()), str(tmp_path), schema_name=NOTIFICATIONS)
    assert plain["schema"]["properties"]["fetchNews"]["default"] == "none"  # without them JupyterLab asks


def test_make_lab_passes_the_settings_to_jupyter_lab():
    if shutil.which("make") is None:
        pytest.skip("make is not installed: cannot dry-run `make lab`")
    commands = subprocess.run(["make", "-n", "lab"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    lab = next(line for line in commands.splitlines() if "jupyter lab" in line)
    assert f'--LabApp.app_settings_dir="{SETTINGS_DIR}"' in lab and "--ServerApp.root_dir=episodes" in lab


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_running_jupyterlab_serves_the_course_settings(tmp_path):
    """Start JupyterLab on the loopback address as `make lab` does and ask its settings API."""
    port, token = free_port(), "course-settings-test"
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp_path / "config"), JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "user"))
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={tmp_path}", "--allow-root",
         f'--LabApp.app_settings_dir={SETTINGS_DIR}'],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
    )
    url = f"http://127.0.0.1:{port}/lab/api/settings/{NOTIFICATIONS}"
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    answer = json.load(response)
                break
            except OSError:
                assert server.poll() is None, f"JupyterLab exited: {server.stderr.read().decode()[-2000:]}"
                assert time.monotonic() < deadline, "JupyterLab did not answer within 120 s"
                time.sleep(0.5)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    properties = answer["schema"]["properties"]
    assert properties["fetchNews"]["default"] == "false" and properties["checkForUpdates"]["default"] is False
