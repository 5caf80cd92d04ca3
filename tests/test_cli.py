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


# --------------------------------------------------------------------------- user mistakes: one line, non-zero exit


def console(*argv, env=None):
    """Run the installed ``trustml`` command; returns (exit code, stdout, stderr)."""
    script = Path(sys.executable).parent / "trustml"
    result = subprocess.run([str(script), *argv], capture_output=True, text=True, env=env, timeout=300)
    return result.returncode, result.stdout, result.stderr


@pytest.mark.parametrize("variable", ["TRUSTML_FAST", "TRUSTML_OFFLINE"])
def test_a_bad_setting_names_the_variable_and_its_values(capsys, monkeypatch, variable):
    monkeypatch.setenv(variable, "maybe")
    code, out, err = run_cli(capsys, "list")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and f"{variable}='maybe' is not a switch" in err
    assert "allowed values are 1, on, true, yes (on) and 0, false, no, off or empty (off)" in err


def test_a_bad_setting_gives_no_traceback_from_the_console_script(tmp_path):
    import os

    code, out, err = console("check", env=dict(os.environ, TRUSTML_OFFLINE="2", TRUSTML_DATA=str(tmp_path)))
    assert code == 2 and "Traceback" not in err and err.startswith("trustml: TRUSTML_OFFLINE='2'")


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"not json at all", id="text"),
        pytest.param(b"\xff\xfe\x00\x01", id="binary"),
        pytest.param(b"{}", id="empty-object"),
        pytest.param(b"[1, 2]", id="list"),
        pytest.param(b'{"cells": 3}', id="bad-cells"),
        pytest.param(
            b'{"nbformat": 4, "nbformat_minor": 5, "cells": [{"cell_type": "code"}], "metadata": {}}', id="invalid"
        ),
    ],
)
def test_run_refuses_a_file_that_is_no_notebook_before_running_anything(capsys, tiny_episodes, tmp_path, content):
    bad = tmp_path / "03-bad.ipynb"
    bad.write_bytes(content)
    output = tmp_path / "out"
    code, out, err = run_cli(capsys, "run", str(tiny_episodes / "01-works.ipynb"), str(bad), "--output", str(output))
    assert code == 2 and out == "" and err.count("\n") == 1
    assert f"{bad} is not a Jupyter notebook (" in err
    assert not (output / "01-works.ipynb").exists()  # the good one did not run first


def test_run_checks_output_before_running(capsys, tiny_episodes, tmp_path):
    existing = tmp_path / "report.html"
    existing.write_text("keep me")
    code, out, err = run_cli(capsys, "run", "1", "--episodes-dir", str(tiny_episodes), "--output", str(existing))
    assert code == 2 and out == "" and "--output" in err and "is a file, not a folder" in err
    assert existing.read_text() == "keep me"
    code, out, err = run_cli(
        capsys, "run", "1", "--episodes-dir", str(tiny_episodes), "--output", str(existing / "sub")
    )
    assert code == 2 and out == "" and "cannot be written to (Not a directory)" in err


def test_run_refuses_an_unwritable_output(capsys, tiny_episodes, tmp_path, monkeypatch):
    import tempfile

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "TemporaryFile", refuse)  # root can write anywhere: simulate a read-only place
    code, out, err = run_cli(capsys, "run", "1", "--episodes-dir", str(tiny_episodes), "--output", str(tmp_path / "o"))
    assert code == 2 and "cannot be written to (Permission denied)" in err


def test_run_refuses_a_non_positive_timeout(capsys, tiny_episodes):
    code, _, err = run_cli(capsys, "run", "1", "--episodes-dir", str(tiny_episodes), "--timeout", "0")
    assert code == 2 and "--timeout must be a positive number" in err


def test_argparse_mistakes_exit_with_usage_not_traceback():
    code, out, err = console("fetch")
    assert code == 2 and "Traceback" not in err and "the following arguments are required: NAME" in err
    code, _, err = console("frobnicate")
    assert code == 2 and "invalid choice" in err


def test_fetch_into_a_data_folder_that_is_a_file(capsys, monkeypatch, tmp_path):
    blocked = tmp_path / "data-file"
    blocked.write_text("x")
    monkeypatch.setenv("TRUSTML_DATA", str(blocked))
    monkeypatch.setenv("TRUSTML_OFFLINE", "0")
    code, _, err = run_cli(capsys, "fetch", "mnist")
    assert code == 1 and err.count("\n") == 1
    assert f"FAIL  mnist: 'mnist' cannot be cached: {blocked} is a file, not a folder" in err
    code, out, _ = run_cli(capsys, "check")
    assert f"real: cannot be cached: {blocked} is a file, not a folder" in out


def damaged_mnist(data_dir):
    folder = data_dir / "mnist"
    folder.mkdir()
    for name in ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz"]:
        (folder / name).write_bytes(b"")
    return folder


def test_check_marks_a_damaged_dataset_with_its_repair(capsys, data_dir):
    damaged_mnist(data_dir)
    code, out, _ = run_cli(capsys, "check")
    assert code == 1 and "All set" not in out
    line = next(line for line in out.splitlines() if " mnist " in line)
    assert line.startswith("  MISS mnist") and "DAMAGED (train-images-idx3-ubyte.gz is empty (0 bytes)" in line
    assert "Repair: `trustml fetch mnist`" in line
    assert "t10k-labels" not in line  # a missing file is not damage


def test_fetch_offline_names_the_damaged_file(capsys, data_dir):
    damaged_mnist(data_dir)
    code, _, err = run_cli(capsys, "fetch", "mnist")
    assert code == 1 and err.count("\n") == 1
    assert "train-images-idx3-ubyte.gz is empty (0 bytes)" in err and "unset TRUSTML_OFFLINE" in err


def test_fetch_says_what_it_repaired(capsys, data_dir, fake_downloads, monkeypatch):
    from datafiles import idx_bytes, publish_mnist, small_mnist_arrays, write_files
    from torchvision.datasets import MNIST

    files = {name: idx_bytes(a) for name, a in small_mnist_arrays().items()}
    publish_mnist(monkeypatch, files)
    fake_downloads.served.update({MNIST.mirrors[0] + n: c for n, c in files.items()})
    code, out, _ = run_cli(capsys, "fetch", "mnist")
    assert code == 0 and f"ok    mnist: downloaded and verified into {data_dir / 'mnist'}" in out
    code, out, _ = run_cli(capsys, "fetch", "mnist")
    assert code == 0 and "ok    mnist: already cached and verified" in out
    write_files(data_dir / "mnist", {"t10k-images-idx3-ubyte.gz": b"damaged"})
    code, out, _ = run_cli(capsys, "fetch", "mnist")
    assert code == 0 and "ok    mnist: repaired" in out
    assert "Repaired 'mnist'" in out and "t10k-images-idx3-ubyte.gz fails its checksum" in out
    assert "the other 3 file(s) had passed verification" in out
    code, out, _ = run_cli(capsys, "fetch", "digits")
    assert code == 0 and "ok    digits: embedded in trustml, nothing to download" in out

# --- run modes, run times, titles and the datasets episodes use ---------------------------------

from trustml.episodes import EpisodeRun, episode_datasets, episode_title, record_run_time, run_times  # noqa: E402


def kernel_saw(output):
    """TRUSTML_FAST and TRUSTML_OFFLINE as the tiny episode's kernel printed them."""
    executed = nbformat.read(output / "01-works.ipynb", as_version=4)
    return executed.cells[0].outputs[0]["text"].split()[:2]


def test_run_takes_fast_mode_from_the_environment(capsys, tiny_episodes, tmp_path, monkeypatch):
    monkeypatch.setenv("TRUSTML_FAST", "1")
    output = tmp_path / "build"
    code, out, _ = run_cli(capsys, "run", "1", "--episodes-dir", str(tiny_episodes), "--output", str(output))
    assert code == 0, out
    assert "fast mode (TRUSTML_FAST=1)" in out and "offline (TRUSTML_OFFLINE=1)" in out
    assert kernel_saw(output) == ["1", "1"]


def test_run_flags_win_over_the_environment(capsys, tiny_episodes, tmp_path, monkeypatch):
    monkeypatch.setenv("TRUSTML_FAST", "1")
    output = tmp_path / "build"
    argv = ["run", "1", "--episodes-dir", str(tiny_episodes), "--output", str(output), "--full", "--online"]
    code, out, _ = run_cli(capsys, *argv)
    assert code == 0, out
    assert "full mode (command line)" in out and "downloads allowed (command line)" in out
    assert kernel_saw(output) == ["0", "0"]


def test_run_defaults_without_flags_or_environment(capsys, tiny_episodes, tmp_path, monkeypatch):
    monkeypatch.delenv("TRUSTML_OFFLINE")
    output = tmp_path / "build"
    code, out, _ = run_cli(capsys, "run", "1", "--episodes-dir", str(tiny_episodes), "--output", str(output))
    assert code == 0, out
    assert "full mode (default)" in out and "offline (default)" in out
    assert kernel_saw(output) == ["0", "1"]


def test_run_online_from_the_environment(capsys, tiny_episodes, tmp_path, monkeypatch):
    monkeypatch.setenv("TRUSTML_OFFLINE", "0")
    output = tmp_path / "build"
    code, out, _ = run_cli(capsys, "run", "1", "--episodes-dir", str(tiny_episodes), "--output", str(output))
    assert code == 0 and "downloads allowed (TRUSTML_OFFLINE=0)" in out
    assert kernel_saw(output)[1] == "0"


def test_run_rejects_a_switch_that_is_not_one(capsys, tiny_episodes, monkeypatch):
    monkeypatch.setenv("TRUSTML_FAST", "maybe")
    code, _, err = run_cli(capsys, "run", "1", "--episodes-dir", str(tiny_episodes))
    assert code == 2 and "TRUSTML_FAST='maybe' is not a switch" in err


def test_fast_and_full_flags_exclude_each_other(capsys):
    with pytest.raises(SystemExit):
        cli.main(["run", "--fast", "--full"])
    assert "not allowed with argument" in capsys.readouterr().err


def test_run_records_the_time_of_successful_runs_only(capsys, tiny_episodes, tmp_path):
    run_cli(capsys, "run", "--episodes-dir", str(tiny_episodes), "--output", str(tmp_path / "b"), "--fast")
    times = run_times()
    assert set(times) == {"01-works"}  # 02-broken failed: nothing recorded
    assert set(times["01-works"]) == {"fast"} and times["01-works"]["fast"]["seconds"] > 0


def test_run_keeps_the_kernel_warning_off_the_console(tiny_episodes, tmp_path):
    """ipykernel warns about unencrypted TCP on every start; the runner uses local sockets instead."""
    argv = ["run", "1", "--episodes-dir", str(tiny_episodes), "--output", str(tmp_path / "b"), "--fast"]
    result = subprocess.run(
        [sys.executable, "-m", "trustml.cli", *argv],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "without encryption" not in result.stderr + result.stdout
    assert "1 passed, 0 failed" in result.stdout


def test_list_shows_episode_titles_and_measured_times(capsys):
    code, out, _ = run_cli(capsys, "list")
    assert code == 0
    assert "01-overview" in out and "Overview: what is trustworthy AI?" in out
    assert "Preparing to train a model" in out and "not run here yet" in out
    record_run_time(EpisodeRun(Path("01-overview.ipynb"), 12.34, None, None, True))
    record_run_time(EpisodeRun(Path("01-overview.ipynb"), 25.0, None, None, False))
    record_run_time(EpisodeRun(Path("02-preparing-to-train.ipynb"), 99.0, None, "boom", True))  # failed: ignored
    _, out, _ = run_cli(capsys, "list")
    line = next(line for line in out.splitlines() if "01-overview" in line)
    assert line.endswith("fast 12 s, full 25 s")
    assert "02-preparing-to-train" in out and "99 s" not in out


def test_a_damaged_times_file_counts_as_no_measurements(data_dir):
    (data_dir / "episode-times.json").write_text("{not json")
    assert run_times() == {}
    record_run_time(EpisodeRun(Path("01-overview.ipynb"), 3.0, None, None, True))
    assert run_times()["01-overview"]["fast"]["seconds"] == 3.0


def test_check_says_which_datasets_the_episodes_use_and_the_settings_in_words(capsys):
    code, out, _ = run_cli(capsys, "check")
    assert code == 0, out
    assert "offline: stand-ins only" in out and "full mode" in out
    assert "offline   True" not in out and "offline   False" not in out
    from trustml.episodes import episode_datasets, find_episodes

    episodes = find_episodes()
    assert f"{len(episodes)} episode(s) in" in out and "Preparing to train a model" in out
    using_credit = [nb.name[:2] for nb in episodes if "german_credit" in episode_datasets(nb)]
    assert f"german_credit        episodes {', '.join(using_credit)}: embedded" in out
    assert f"its {len(episodes)} episode(s) run offline" in out


def test_check_says_downloads_are_allowed_when_online(capsys, monkeypatch):
    monkeypatch.setenv("TRUSTML_OFFLINE", "0")
    _, out, _ = run_cli(capsys, "check")
    assert "downloads allowed" in out


def test_episode_title_and_datasets(tmp_path):
    nb = new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("Some intro\n# The title\n\n*timings*"),
            new_code_cell('a = load("mnist")\nb = trustml.data.load( \'digits\' )\nc = load("mnist")'),
            new_code_cell("download('cifar10')  # not a load call"),
        ]
    )
    path = tmp_path / "05-x.ipynb"
    nbformat.write(nb, path)
    assert episode_title(path) == "The title"
    assert episode_datasets(path) == ["mnist", "digits"]
    nbformat.write(new_notebook(cells=[new_code_cell("1")]), path)
    assert episode_title(path) == "05-x"


def test_check_says_which_pretrained_models_are_cached_and_how_to_fetch_them(capsys, monkeypatch):
    monkeypatch.setattr(cli, "_model_cached", lambda name: name == "resnet50")
    code, out, _ = run_cli(capsys, "check")
    assert code == 0  # a model not cached is not a problem: the episodes fall back
    assert "distilbert" in out and "offline the episode uses all-MiniLM-L6-v2 (`trustml fetch distilbert`)" in out
    assert "resnet50" in out and "cached, runs offline" in out
    assert "all-MiniLM-L6-v2     episode 09 offline" in out


def test_fetch_models_offline_fails_clearly_and_goes_on(capsys):
    code, out, err = run_cli(capsys, "fetch", "distilbert", "resnet50")
    assert code == 1
    assert "FAIL  distilbert:" in err and "FAIL  resnet50:" in err
    assert "offline" in err.lower() or "TRUSTML_OFFLINE" in err


def test_fetch_all_includes_the_models(capsys, monkeypatch):
    fetched = []
    monkeypatch.setattr(cli, "_fetch_model", lambda name: fetched.append(name) or f"{name} in its cache")
    monkeypatch.setattr(cli, "_model_cached", lambda name: False)
    code, out, _ = run_cli(capsys, "fetch", "all")
    assert fetched == ["distilbert", "resnet50"]
    assert "ok    distilbert: downloaded: distilbert in its cache" in out
    assert code == 1  # the datasets themselves cannot be downloaded offline
