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


def test_replies_are_polled_in_slices_so_a_missed_one_is_read_within_a_second(monkeypatch):
    """nbclient#312: one long poll can miss a cell's reply; slices of _REPLY_POLL_S look again."""
    import asyncio
    from queue import Empty

    import trustml.episodes as episodes

    monkeypatch.setattr(episodes, "_REPLY_POLL_S", 0.01)
    asked = []

    async def get_msg(timeout=None):
        asked.append(timeout)
        if len(asked) < 3:  # the first polls "miss" the reply
            await asyncio.sleep(timeout)
            raise Empty
        return {"reply": True}

    assert asyncio.run(episodes._in_slices(get_msg)(timeout=600)) == {"reply": True}
    assert len(asked) == 3 and all(t <= 0.01 for t in asked)

    async def never(timeout=None):
        await asyncio.sleep(timeout)
        raise Empty

    with pytest.raises(Empty):  # the cell's own timeout still ends the wait
        asyncio.run(episodes._in_slices(never)(timeout=0.05))
