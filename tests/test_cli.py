import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from trustml import cli


def run_cli(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_console_script_is_installed():
    script = Path(sys.executable).parent / "trustml"
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True, check=True)
    assert "check" in result.stdout and "fetch" in result.stdout and "run" in result.stdout


def test_list_names_datasets_with_their_stand_ins(capsys):
    code, out, _ = run_cli(capsys, "list")
    assert code == 0
    assert "mnist" in out and "download (stand-in: digits)" in out
    assert "german_credit" in out and "embedded" in out


def test_check_reports_a_working_setup(capsys):
    code, out, _ = run_cli(capsys, "check")
    assert code == 0, out
    assert "ok   torch" in out and "JupyterLab widget extension found" in out
    assert "offline the episodes use 'digits'" in out
    assert "trustml fetch meps19 --accept-meps-terms" in out
    assert "All set" in out


def test_check_names_what_is_missing_and_how_to_fix_it(capsys, monkeypatch):
    real_version = cli._version
    monkeypatch.setattr(cli, "_version", lambda d: None if d == "grad-cam" else real_version(d))
    monkeypatch.setattr(cli, "_widget_extension", lambda: (False, "JupyterLab widget extension not found"))
    code, out, _ = run_cli(capsys, "check")
    assert code == 1
    assert "MISS grad-cam" in out and "pip install -e ." in out
    assert "2 problem(s) found" in out


def test_fetch_offline_fails_clearly(capsys):
    code, _, err = run_cli(capsys, "fetch", "mnist")
    assert code == 1
    assert "TRUSTML_OFFLINE=1 forbids downloading" in err


def test_fetch_meps_needs_the_terms(capsys):
    code, _, err = run_cli(capsys, "fetch", "meps19")
    assert code == 1 and "--accept-meps-terms" in err


def test_fetch_all_skips_meps_without_the_terms(capsys):
    code, out, err = run_cli(capsys, "fetch", "all")
    assert code == 1  # offline: the others fail
    assert "skip  meps19" in out
    assert "FAIL  mnist" in err and "FAIL  imdb" in err


def test_fetch_unknown_dataset(capsys):
    code, _, err = run_cli(capsys, "fetch", "mnsit")
    assert code == 1 and "Did you mean 'mnist'" in err


@pytest.fixture
def tiny_episodes(tmp_path):
    folder = tmp_path / "episodes"
    folder.mkdir()
    ok = new_notebook(
        cells=[
            new_code_cell("import os\nprint(os.environ['TRUSTML_FAST'], os.environ['TRUSTML_OFFLINE'], os.getcwd())")
        ]
    )
    ok.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(ok, folder / "01-works.ipynb")
    broken = new_notebook(cells=[new_code_cell("raise RuntimeError('episode is broken')")])
    nbformat.write(broken, folder / "02-broken.ipynb")
    return folder


def test_run_executes_offline_writes_notebook_and_html(capsys, tiny_episodes, tmp_path):
    output = tmp_path / "build"
    code, out, _ = run_cli(capsys, "run", "1", "--episodes-dir", str(tiny_episodes), "--output", str(output), "--fast")
    assert code == 0, out
    assert "ok   01-works" in out and "1 passed, 0 failed" in out
    executed = nbformat.read(output / "01-works.ipynb", as_version=4)
    assert executed.cells[0].outputs[0]["text"].split() == ["1", "1", str(tiny_episodes)]
    assert "<html" in (output / "01-works.html").read_text()


def test_run_reports_failures_and_exits_nonzero(capsys, tiny_episodes, tmp_path):
    code, out, err = run_cli(capsys, "run", "--episodes-dir", str(tiny_episodes), "--output", str(tmp_path / "b"))
    assert code == 1
    assert "FAIL 02-broken" in out and "episode is broken" in err
    assert "1 passed, 1 failed" in out


def test_run_unknown_episode(capsys, tiny_episodes):
    code, _, err = run_cli(capsys, "run", "7", "--episodes-dir", str(tiny_episodes))
    assert code == 2 and "No episode matches '7'. Episodes: 01-works, 02-broken" in err
