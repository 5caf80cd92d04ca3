"""Every episode notebook runs top to bottom in fast, offline mode."""

import pytest

from trustml.episodes import find_episodes, run_episode

EPISODES = find_episodes()


def test_the_course_has_episodes():
    assert len(EPISODES) >= 2


@pytest.mark.episodes
@pytest.mark.parametrize("notebook", EPISODES, ids=[nb.stem for nb in EPISODES])
def test_episode_executes_offline_in_fast_mode(notebook, tmp_path):
    run = run_episode(notebook, output_dir=tmp_path, html=False)
    assert run.ok, f"{notebook.name} failed after {run.seconds:.0f} s:\n{run.error}"


@pytest.mark.parametrize("notebook", EPISODES, ids=[nb.stem for nb in EPISODES])
def test_episode_is_committed_without_outputs(notebook):
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), "strip the outputs before committing"
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"
