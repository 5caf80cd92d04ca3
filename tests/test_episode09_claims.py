"""The claims episode 09's prose makes about its probes, checked on what its code computes (offline).

The episode's code cells run in one namespace (fast mode; full mode too with TRUSTML_CLAIMS_FULL=1:
the generated sentences with all-MiniLM-L6-v2), followed by the solutions of its code exercises;
each assertion quotes the sentence it checks.
"""

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import nbformat
import numpy as np
import pytest
import torch

from episode_code import solutions
from trustml.episodes import default_episodes_dir

STEM = "09-linear-probes"


def episode():
    return nbformat.read(default_episodes_dir() / f"{STEM}.ipynb", as_version=4)


FULL = pytest.mark.skipif(
    os.environ.get("TRUSTML_CLAIMS_FULL") != "1",
    reason="full mode adds 1-2 minutes: run with TRUSTML_CLAIMS_FULL=1 (before a release, or after changing it)",
)


@pytest.fixture(scope="module", params=["fast", pytest.param("full", marks=FULL)])
def ep09(request, tmp_path_factory):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    nb = episode()
    namespace = {"display": lambda *args: None}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TRUSTML_DATA", str(tmp_path_factory.mktemp("data")))
        patch.setenv("TRUSTML_OFFLINE", "1")
        patch.setenv("TRUSTML_FAST", "1" if request.param == "fast" else "0")
        for cell in nb.cells:
            if cell.cell_type == "code" and cell.source.strip():
                exec(compile(cell.source, f"<{STEM}>", "exec"), namespace)
        layers_count, masked, random_mlp, by_negation = solutions(nb)
        for block in (layers_count, masked, random_mlp, by_negation):
            exec(compile(block, "<solution>", "exec"), namespace)
    plt.close("all")
    torch.set_num_threads(threads)
    return namespace


def test_it_runs_offline_on_the_generated_sentences_and_minilm(ep09):
    assert ep09["data"].source == "embedded" and ep09["encoder"].source == "embedded"
    assert ep09["E_train"].shape[:2] == (7, len(ep09["y_train"]))


def test_exercise_1_six_layers_seven_hidden_states(ep09):
    assert ep09["model"].config.num_hidden_layers == 6 and len(ep09["hidden_states"]) == 7


def test_exercise_2_padding_changes_the_plain_mean_not_the_masked_one(ep09):
    assert ep09["naive_gap"] > 0.1
    assert (ep09["masked_mean"] - ep09["last_alone"].mean(0)).abs().max().item() < 1e-5  # "about 1e-6"


def test_the_hand_written_probe_agrees_with_probe_layers(ep09):
    """'Its accuracy on the last layer should be close to ours'."""
    assert abs(ep09["hand_accuracy"] - ep09["sentiment"].loc[6, "accuracy"]) <= 0.03


def test_exercise_3_the_layer_story(ep09):
    accuracy = ep09["sentiment"]["accuracy"]
    assert 0.55 <= accuracy[0] <= 0.72  # "layer 0 ... scores about two in three"
    assert accuracy[1] > accuracy[0] + 0.05 and accuracy[2] > accuracy[1]  # "climbs steeply over the first layers"
    assert accuracy[2:5].max() > 0.95  # "passes 0.95 in the middle layers"
    assert accuracy[6] < accuracy[2:5].max()  # "the last layer ... scores a little below the middle layers"


def test_the_random_model_gets_what_the_words_give(ep09):
    """'worth about two in three at every layer, the same as the trained model's layer 0'."""
    random = ep09["random_sentiment"]["accuracy"]
    assert random.between(0.55, 0.72).all()
    assert abs(random.mean() - ep09["sentiment"].loc[0, "accuracy"]) < 0.06


def test_shuffled_labels_give_chance_on_held_out_sentences(ep09):
    table = ep09["sentiment"]
    assert table["control accuracy"].between(0.38, 0.62).all()
    np.testing.assert_allclose(table["selectivity"], table["accuracy"] - table["control accuracy"])


def test_the_word_type_control_is_learned_at_every_layer(ep09):
    """'learns the adjectives' random labels almost perfectly at every layer ... selectivity near zero or negative'."""
    table = ep09["word_control"]
    assert (table["control accuracy"] > 0.9).all()
    assert (table["selectivity"] < 0.05).all()


def test_exercise_4_an_mlp_probe_learns_sentiment_from_an_untrained_model(ep09):
    """'the MLP probe scores well above the linear one on a model that has learned nothing'."""
    gain = ep09["random_mlp"]["accuracy"] - ep09["random_sentiment"]["accuracy"]
    assert (gain > 0.1).all()  # at least 10 points at every layer


def test_surface_properties_are_read_perfectly_from_layer_0_on_even_untrained(ep09):
    from trustml.explain import probe_layers

    for prop, table in ep09["surface"].items():
        assert (table["accuracy"] >= 0.99).all(), prop
    meta_train, meta_test = ep09["data"].meta_train, ep09["data"].meta_test
    untrained = probe_layers(ep09["R_train"], meta_train["negated"].astype(int), ep09["R_test"],
                             meta_test["negated"].astype(int), control=None)  # fmt: skip
    assert (untrained["accuracy"] >= 0.99).all()  # "in the random model too (try it)"


def test_exercise_5_negation_separates_layer_0_along_one_principal_component(ep09):
    from sklearn.decomposition import PCA
    from sklearn.metrics import roc_auc_score

    first = PCA(1).fit_transform(ep09["E_train"][0])[:, 0]
    auroc = roc_auc_score(ep09["negated"], first)
    assert max(auroc, 1 - auroc) > 0.9  # "separated at layer 0 (mostly along one principal component)"
    assert ep09["sentiment"].loc[0, "accuracy"] < 0.75  # "Sentiment is not, at layer 0"


def test_you_are_the_test_set(ep09):
    """'In our run the probe read the negation and the sentence with "but" correctly, and called the
    cold pizza and the rude waiter positive'."""
    probe, layer = ep09["best_probe"], ep09["best_layer"]
    assert layer == int(ep09["sentiment"]["accuracy"].idxmax())
    p = dict(zip(ep09["your_sentences"], probe.predict_proba(ep09["embeddings"])[:, 1]))
    assert p["The film was not good at all."] < 0.5
    assert p["I expected to hate it, but it was wonderful."] > 0.5
    assert p["The pizza was cold and the waiter was rude."] > 0.5
