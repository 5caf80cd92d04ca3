"""trustml.fairness on bad and edge input: each gets trustml's own message, before AIF360, fairlearn or sklearn.

One table of refused inputs (error type and a phrase of the message), then edge inputs with a right answer.
"""

import functools

import numpy as np
import pandas as pd
import pytest
from refusals import assert_refused
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from trustml.data import load_german_credit
from trustml.fairness import (
    describe_dataset,
    disparate_impact_gap,
    describe_thresholds,
    fairness_metrics,
    favourable_scores,
    fit_exponentiated_gradient,
    fit_model,
    fit_threshold_optimizer,
    matching_threshold,
    metrics_by_group,
    plot_threshold_sweep,
    plot_tradeoff,
    protected_groups,
    protected_values,
    split_train_val_test,
    threshold_rule,
    threshold_sweep,
    threshold_view,
)


@functools.cache
def data():
    """German credit split as in the lesson, the model, the validation scores, labels, groups and predictions."""
    credit = load_german_credit()
    train, val, test = split_train_val_test(credit)
    model = fit_model(train)
    scores = favourable_scores(model, val)
    return credit, train, val, model, scores


def credit():
    return data()[0]


def train():
    return data()[1]


def val():
    return data()[2]


def model():
    return data()[3]


def scores():
    return data()[4]


def groups():
    return protected_groups(val())


def privileged():
    return groups()["privileged_groups"]


def unprivileged():
    return groups()["unprivileged_groups"]


def with_weights(dataset, weights):
    copy = dataset.copy(deepcopy=True)
    copy.instance_weights = np.asarray(weights, dtype=float)
    return copy


def with_labels(dataset, labels):
    copy = dataset.copy(deepcopy=True)
    copy.labels = np.asarray(labels, dtype=float).reshape(-1, 1)
    return copy


def one_label(dataset):
    return with_labels(dataset, np.ones(len(dataset.labels)))


def females_all_good(dataset):
    female = protected_values(dataset).to_numpy() == "female"
    return with_labels(dataset, np.where(female, 1.0, dataset.labels.ravel()))


def sweep(dataset=None, values=None, thresholds=(0.5,), **changes):
    return lambda: threshold_sweep(
        val() if dataset is None else dataset(), scores() if values is None else values(), thresholds,
        **{**groups(), **changes},
    )  # fmt: skip


def by_group(y_true=None, y_pred=None, features=None, weights=None):
    def call():
        labels = val().labels.ravel()
        predicted = (scores() > 0.5).astype(float) if y_pred is None else y_pred()
        return metrics_by_group(
            labels if y_true is None else y_true(labels), predicted,
            sensitive_features=protected_values(val()) if features is None else features(),
            sample_weight=None if weights is None else weights(),
        )  # fmt: skip

    return call


def other_features():
    return LogisticRegression().fit(np.random.default_rng(0).random((10, 3)), np.arange(10) % 2)


N = 300  # rows of the validation set

REFUSED = [
    # threshold_sweep (and through it every function that takes groups, scores and weights)
    ("identical groups", sweep(unprivileged_groups=[{"sex": 1.0}]), ValueError,
     r"privileged_groups \[\{'sex': 1.0\}\] and unprivileged_groups \[\{'sex': 1.0\}\] overlap: 203 rows"),
    ("overlapping groups", sweep(privileged_groups=[{"sex": 1.0}, {"sex": 0.0}]), ValueError, "overlap: 97 rows"),
    ("thresholds text", sweep(thresholds="0.5"), TypeError, r"thresholds must be numbers in \[0, 1\]"),
    ("thresholds None", sweep(thresholds=None), TypeError, "thresholds must be numbers"),
    ("thresholds 2-D", sweep(thresholds=[[0.5]]), ValueError, "thresholds must be a number or a non-empty 1-D"),
    ("threshold above 1", sweep(thresholds=[0.5, 1.5]), ValueError, r"thresholds must lie in \[0, 1\]"),
    ("threshold NaN", sweep(thresholds=[np.nan]), ValueError, r"thresholds must lie in \[0, 1\]"),
    ("thresholds empty", sweep(thresholds=[]), ValueError, "non-empty"),
    ("scores text", sweep(values=lambda: np.array(["a"] * N)), TypeError, "scores must be numbers"),
    ("scores complex", sweep(values=lambda: scores() + 0j), TypeError, "got complex numbers"),
    ("scores infinite", sweep(values=lambda: np.full(N, np.inf)), ValueError, "probabilities in"),
    ("scores None", sweep(values=lambda: None), ValueError, "scores must be one number per row"),
    ("scores short", sweep(values=lambda: scores()[:-1]), ValueError, "scores has 299 values but the dataset has 300"),
    ("scores of both classes", sweep(values=lambda: np.c_[1 - scores(), scores()]), ValueError,
     "favourable_scores"),
    ("scores NaN", sweep(values=lambda: np.r_[scores()[:-1], np.nan]), ValueError, "1 NaN values"),
    ("decision values", sweep(values=lambda: scores() * 4 - 2), ValueError, "not decision_function"),
    ("group value a name", sweep(privileged_groups=[{"sex": "male"}]), TypeError,
     r"gives sex the value 'male', but protected attributes hold numbers \('male' is 1.0"),
    ("group value a list", sweep(privileged_groups=[{"sex": [1]}]), TypeError, "protected attributes hold numbers"),
    ("groups nested", sweep(privileged_groups=[[{"sex": 1}]]), TypeError, "each entry of privileged_groups"),
    ("groups a string", sweep(privileged_groups="sex"), TypeError, "privileged_groups must be a non-empty list"),
    ("groups a dict", sweep(unprivileged_groups={"sex": 0}), TypeError, "unprivileged_groups must be a non-empty"),
    ("groups empty", sweep(unprivileged_groups=[]), TypeError, "unprivileged_groups must be a non-empty list"),
    ("group attribute unknown", sweep(privileged_groups=[{"race": 1}]), ValueError,
     r"names 'race', which is not a protected attribute.*\['sex'\]"),
    ("group without members", sweep(unprivileged_groups=[{"sex": 2}]), ValueError, "has no members"),
    ("undefined None", sweep(undefined=None), ValueError, "undefined must be 'raise' or 'nan'"),
    ("undefined a list", sweep(undefined=[]), ValueError, "undefined must be 'raise' or 'nan'"),
    ("a negative weight", sweep(dataset=lambda: with_weights(val(), np.r_[-5, np.ones(N - 1)])), ValueError,
     r"dataset.instance_weights has 1 negative, NaN or infinite weight\(s\) \(first at row 0\)"),
    ("NaN weights", sweep(dataset=lambda: with_weights(val(), np.full(N, np.nan))), ValueError,
     "instance_weights has 300 negative, NaN"),
    ("zero weights", sweep(dataset=lambda: with_weights(val(), np.zeros(N))), ValueError, "holds only zeros"),
    ("a DataFrame for a dataset", sweep(dataset=lambda: val().convert_to_dataframe()[0]), TypeError,
     "aif360 BinaryLabelDataset"),
    ("an undefined metric", sweep(thresholds=[1.0]), ValueError, "disp_imp is undefined at threshold.s. 1"),
    ("fairness_metrics: identical groups", lambda: fairness_metrics(val(), val().labels.ravel(),
     privileged_groups=unprivileged(), unprivileged_groups=unprivileged()), ValueError, "overlap"),
    ("fairness_metrics: scores", lambda: fairness_metrics(val(), scores(), **groups()), ValueError,
     r"predictions must be the dataset's labels \[0.0, 1.0\]"),
    ("fairness_metrics: short", lambda: fairness_metrics(val(), val().labels.ravel()[:5], **groups()), ValueError,
     r"one label per row of the dataset \(300 rows\)"),
    # metrics_by_group
    ("by group: negative weights", by_group(weights=lambda: -np.ones(N)), ValueError,
     "sample_weight has 300 negative, NaN or infinite"),
    ("by group: NaN weights", by_group(weights=lambda: np.full(N, np.nan)), ValueError, "sample_weight has 300"),
    ("by group: zero weights", by_group(weights=lambda: np.zeros(N)), ValueError, "sample_weight holds only zeros"),
    ("by group: weights text", by_group(weights=lambda: ["a"] * N), TypeError, "sample_weight must hold numbers"),
    ("by group: weights 2 columns", by_group(weights=lambda: np.ones((N, 2))), ValueError, "one weight per row"),
    ("by group: a group weighing 0", by_group(weights=lambda: np.where(
        protected_values(val()).to_numpy() == "female", 0.0, 1.0)), ValueError,
     "sample_weight sums to 0 in group 'female'"),
    ("by group: empty", lambda: metrics_by_group([], [], sensitive_features=[]), ValueError, "y_true is empty"),
    ("by group: scores as predictions", by_group(y_pred=scores), ValueError, "y_pred looks like scores"),
    ("by group: names without pos_label", lambda: metrics_by_group(["good", "bad"], ["good", "good"],
     sensitive_features=["a", "b"]), ValueError, "pos_label 1 is not among them"),
    ("by group: three labels", lambda: metrics_by_group([0, 1, 2], [0, 1, 1], sensitive_features=["a"] * 3),
     ValueError, r"must be binary: pos_label 1 and one other label; found \[0, 2\]"),
    ("by group: a group missing", by_group(features=lambda: np.r_[np.ones(N - 1), np.nan]), ValueError,
     r"sensitive_features has 1 missing \(NaN\) value"),
    ("by group: groups None", by_group(features=lambda: None), TypeError, "sensitive_features must be an array-like"),
    ("by group: a label missing", by_group(y_true=lambda labels: np.r_[labels[:-1], np.nan]), ValueError,
     "y_true has 1 missing"),
    ("by group: labels 2-D", by_group(y_true=lambda labels: np.c_[labels, labels]), ValueError,
     r"y_true must have one entry per row \(1-D\), got shape \(300, 2\)"),
    ("by group: one number", lambda: metrics_by_group(1, 1, sensitive_features="a"), TypeError,
     "y_true must be an array-like"),
    ("by group: lengths differ", by_group(y_true=lambda labels: labels[:10]), ValueError,
     "got lengths 10, 300 and 300"),
    # fit_model, favourable_scores
    ("fit_model: negative weights", lambda: fit_model(with_weights(train(), -np.ones(500))), ValueError,
     "dataset.instance_weights has 500 negative"),
    ("fit_model: estimator without sample_weight", lambda: fit_model(train(), estimator=KNeighborsClassifier()),
     TypeError, "KNeighborsClassifier's fit takes no sample_weight"),
    ("fit_model: pipeline without sample_weight", lambda: fit_model(train(), estimator=make_pipeline(
        StandardScaler(), KNeighborsClassifier())), TypeError, "KNeighborsClassifier's fit takes no sample_weight"),
    ("fit_model: estimator text", lambda: fit_model(train(), estimator="lr"), TypeError,
     "estimator must be a scikit-learn classifier or Pipeline"),
    ("fit_model: estimator class", lambda: fit_model(train(), estimator=LogisticRegression), TypeError,
     r"e.g. LogisticRegression\(\), not the class itself"),
    ("fit_model: one label", lambda: fit_model(one_label(train())), ValueError,
     "fit_model needs rows of both labels, but the dataset has none with label 0"),
    ("fit_model: not a dataset", lambda: fit_model(train().features), TypeError, "aif360 BinaryLabelDataset"),
    ("scores: unfitted", lambda: favourable_scores(LogisticRegression(), val()), ValueError,
     r"model \(LogisticRegression\) is not fitted"),
    ("scores: other features", lambda: favourable_scores(other_features(), val()), ValueError,
     "fitted on 3 features but the dataset has 28"),
    ("scores: no predict_proba", lambda: favourable_scores(SVC().fit(train().features, train().labels.ravel()),
     val()), TypeError, "model must have predict_proba"),
    ("scores: classes by name", lambda: favourable_scores(make_pipeline(StandardScaler(), LogisticRegression()).fit(
        train().features, np.where(train().labels.ravel() == 1, "good", "bad")), val()), ValueError,
     r"classes \['bad', 'good'\] do not include the dataset's favourable label 1"),
    ("scores: unfitted pipeline", lambda: favourable_scores(make_pipeline(StandardScaler(), LogisticRegression()),
     val()), ValueError, r"\(Pipeline\) is not fitted"),
    ("scores: None", lambda: favourable_scores(None, val()), TypeError, "model must have predict_proba"),
    # mitigation
    ("optimizer: unfitted", lambda: fit_threshold_optimizer(LogisticRegression(), val(),
     constraints="demographic_parity"), ValueError, "is not fitted"),
    ("optimizer: other features", lambda: fit_threshold_optimizer(other_features(), val(),
     constraints="demographic_parity"), ValueError, "fitted on 3 features"),
    ("optimizer: attribute unknown", lambda: fit_threshold_optimizer(model(), val(), constraints="equalized_odds",
     attribute="age"), ValueError, "attribute 'age' is not a protected attribute"),
    ("optimizer: objective unknown", lambda: fit_threshold_optimizer(model(), val(), constraints="equalized_odds",
     objective="f1"), ValueError, "objective must be one of"),
    ("optimizer: one label", lambda: fit_threshold_optimizer(model(), one_label(val()),
     constraints="demographic_parity"), ValueError, "needs rows of both labels, but the dataset has none with label 0"),
    ("optimizer: a group with one label", lambda: fit_threshold_optimizer(model(), females_all_good(val()),
     constraints="demographic_parity"), ValueError, "group 'female' has only label 1"),
    ("optimizer: no predict_proba", lambda: fit_threshold_optimizer(SVC().fit(train().features,
     train().labels.ravel()), val(), constraints="equalized_odds"), TypeError, "must have predict_proba"),
    ("optimizer: constraints a list", lambda: fit_threshold_optimizer(model(), val(),
     constraints=["demographic_parity"]), ValueError, "constraints must be one of"),
    ("optimizer: constraints unknown", lambda: fit_threshold_optimizer(model(), val(), constraints="calibration"),
     ValueError, "constraints must be one of"),
    ("reduction: eps 0", lambda: fit_exponentiated_gradient(train(), eps=0), ValueError,
     r"eps must be a number in \(0, 1\)"),
    ("reduction: eps 1", lambda: fit_exponentiated_gradient(train(), eps=1), ValueError, "eps must be a number in"),
    ("reduction: eps True", lambda: fit_exponentiated_gradient(train(), eps=True), TypeError, "eps must be"),
    ("reduction: eps text", lambda: fit_exponentiated_gradient(train(), eps="0.1"), TypeError, "eps must be"),
    ("reduction: estimator without sample_weight", lambda: fit_exponentiated_gradient(
        train(), estimator=KNeighborsClassifier()), TypeError, "fit takes no sample_weight"),
    ("reduction: estimator text", lambda: fit_exponentiated_gradient(train(), estimator="lr"), TypeError,
     "estimator must be a scikit-learn classifier"),
    ("reduction: one label", lambda: fit_exponentiated_gradient(one_label(train())), ValueError,
     "fit_exponentiated_gradient needs rows of both labels"),
    ("reduction: constraints unknown", lambda: fit_exponentiated_gradient(train(), constraints="x"), ValueError,
     "constraints must be one of"),
    ("reduction: attribute unknown", lambda: fit_exponentiated_gradient(train(), attribute="x"), ValueError,
     "attribute 'x' is not a protected attribute"),
    ("rule: not fitted", lambda: threshold_rule(None), TypeError, "optimizer must be a fitted fairlearn"),
    ("describe: not fitted", lambda: describe_thresholds(None, val()), TypeError, "optimizer must be a fitted"),
    ("describe: not a dataset", lambda: describe_thresholds(None, None), TypeError, "aif360 BinaryLabelDataset"),
    ("describe: decimals 0", lambda: describe_thresholds(None, val(), decimals=0), ValueError,
     "decimals must be a whole number from 1 to 6"),
    # splitting and metadata
    ("split: two fractions", lambda: split_train_val_test(credit(), fractions=(0.5, 0.5)), ValueError,
     "fractions must be three positive shares"),
    ("split: fractions text", lambda: split_train_val_test(credit(), fractions="abc"), ValueError,
     "fractions must be three positive shares"),
    ("split: fractions None", lambda: split_train_val_test(credit(), fractions=None), ValueError, "three positive"),
    ("split: a negative fraction", lambda: split_train_val_test(credit(), fractions=(1.2, -0.1, -0.1)), ValueError,
     "each of fractions must be a positive number"),
    ("split: fractions not summing to 1", lambda: split_train_val_test(credit(), fractions=(0.5, 0.3, 0.3)),
     ValueError, "sum to 1"),
    ("split: an empty part", lambda: split_train_val_test(credit(), fractions=(0.9994, 0.0003, 0.0003)), ValueError,
     r"leave a part empty \(sizes \[999, 0, 1\]\)"),
    ("split: seed negative", lambda: split_train_val_test(credit(), seed=-1), ValueError, "seed must be an integer"),
    ("split: seed too large", lambda: split_train_val_test(credit(), seed=2**40), ValueError,
     "seed must be an integer from 0 to 4294967295"),
    ("split: not a dataset", lambda: split_train_val_test(credit().features), TypeError, "BinaryLabelDataset"),
    ("groups: attribute unknown", lambda: protected_groups(credit(), attribute="age"), ValueError,
     r"attribute 'age' is not a protected attribute of this dataset; it has \['sex'\]"),
    ("groups: attribute a number", lambda: protected_groups(credit(), attribute=0), ValueError, "attribute 0 is not"),
    ("values: names text", lambda: protected_values(credit(), names="no"), TypeError, "names must be True or False"),
    ("describe_dataset: attribute unknown", lambda: describe_dataset(credit(), attribute="x"), ValueError,
     "attribute 'x' is not"),
]


def _view(**changes):
    arguments = dict(privileged_threshold=0.5, unprivileged_threshold=0.5)
    return lambda: threshold_view(val(), scores(), **{**groups(), **arguments, **changes})


def _match(**changes):
    arguments = dict(reference_threshold=0.5, criterion="demographic_parity")
    return lambda: matching_threshold(val(), scores(), **{**groups(), **arguments, **changes})


@functools.cache
def small_sweep():
    return threshold_sweep(val(), scores(), [0.3, 0.5], **groups())


VIEWS = [
    ("gap: text", lambda: disparate_impact_gap("a"), TypeError, "disp_imp must be a number or an array of numbers"),
    ("gap: None", lambda: disparate_impact_gap(None), TypeError, "disp_imp must be a number"),
    ("gap: negative", lambda: disparate_impact_gap(-1), ValueError, "cannot be negative"),
    ("gap: complex", lambda: disparate_impact_gap([1j]), TypeError, "disp_imp is complex"),
    ("matching: threshold a list", _match(reference_threshold=[0.2, 0.5]), TypeError,
     r"reference_threshold must be a number in \[0, 1\], got \[0.2, 0.5\]"),
    ("matching: threshold 2", _match(reference_threshold=2), ValueError, "reference_threshold must be a number in"),
    ("matching: grid text", _match(grid="a"), TypeError, "grid must be numbers"),
    ("matching: criterion unknown", _match(criterion="calibration"), ValueError, "criterion must be one of"),
    ("matching: identical groups", _match(unprivileged_groups=[{"sex": 1.0}]), ValueError, "overlap"),
    ("view: threshold a list", _view(privileged_threshold=[0.2, 0.5]), TypeError,
     "privileged_threshold must be a number in"),
    ("view: threshold NaN", _view(unprivileged_threshold=np.nan), ValueError, "unprivileged_threshold must be"),
    ("view: per_group text", _view(per_group="yes"), TypeError, "per_group must be True or False"),
    ("view: curve of other columns", _view(curve=pd.DataFrame({"a": [1]})), ValueError,
     r"curve must be a DataFrame with columns \['bal_acc', 'disp_imp'\]"),
    ("view: curve a list", _view(curve=[1]), ValueError, "curve must be a DataFrame"),
    ("view: thresholds per group on groups leaving rows out", lambda: threshold_view(
        val(), scores(), privileged_threshold=0.3, unprivileged_threshold=0.6, privileged_groups=[{"sex": 1.0}],
        unprivileged_groups=[{"sex": 1.0}]), ValueError, "overlap"),
    ("sweep plot: chosen text", lambda: plot_threshold_sweep(small_sweep(), chosen="x"), TypeError,
     r"chosen must be a number in \[0, 1\]"),
    ("sweep plot: chosen 2", lambda: plot_threshold_sweep(small_sweep(), chosen=2), ValueError, "chosen must be"),
    ("sweep plot: no balanced accuracy", lambda: plot_threshold_sweep(small_sweep().assign(bal_acc=np.nan)),
     ValueError, "bal_acc is undefined"),
    ("sweep plot: not a sweep", lambda: plot_threshold_sweep(small_sweep().to_numpy()), ValueError,
     "sweep must be a DataFrame"),
    ("sweep plot: empty", lambda: plot_threshold_sweep(small_sweep().iloc[:0]), ValueError, "sweep has no rows"),
    ("trade-off: text", lambda: plot_tradeoff(pd.DataFrame({"bal_acc": ["a"], "disp_imp": [1.0]})), TypeError,
     r"results\['bal_acc'\] must hold numbers"),
    ("trade-off: negative DI", lambda: plot_tradeoff(pd.DataFrame({"bal_acc": [0.5], "disp_imp": [-1.0]})),
     ValueError, "cannot be negative"),
    ("trade-off: curve text", lambda: plot_tradeoff(small_sweep(), curve=small_sweep().astype(str)), TypeError,
     r"curve\['bal_acc'\] must hold numbers"),
]


@pytest.mark.parametrize("call, error, phrase", [pytest.param(*case[1:], id=case[0]) for case in REFUSED + VIEWS])
def test_bad_input_is_refused_with_trustmls_own_message(call, error, phrase):
    assert_refused(call, error, phrase)


def test_edge_inputs_get_the_right_answer():
    reference = threshold_sweep(val(), scores(), [0.3, 0.5], **groups())
    pd.testing.assert_frame_equal(threshold_sweep(val(), scores().tolist(), [0.3, 0.5], **groups()), reference)
    pd.testing.assert_frame_equal(threshold_sweep(val(), pd.Series(scores()), [0.3, 0.5], **groups()), reference)
    pd.testing.assert_frame_equal(threshold_sweep(val(), scores()[:, None], [0.3, 0.5], **groups()), reference)
    # zero weight for some rows (not all) is allowed: those rows do not count, as if they were left out
    weights = np.where(np.arange(N) < 10, 0.0, 1.0)
    kept = val().subset(np.arange(10, N))
    np.testing.assert_allclose(
        threshold_sweep(with_weights(val(), weights), scores(), [0.5], **groups())[["disp_imp", "stat_par_diff"]],
        threshold_sweep(kept, scores()[10:], [0.5], **groups())[["disp_imp", "stat_par_diff"]],
    )
    # labels given by name, with the favourable one named, are as good as numbers
    names = np.where(val().labels.ravel() == 1, "good", "bad")
    predicted = np.where(scores() > 0.5, "good", "bad")
    by_name = metrics_by_group(names, predicted, sensitive_features=protected_values(val()), pos_label="good")
    by_number = metrics_by_group(val().labels.ravel(), (scores() > 0.5).astype(float),
                                 sensitive_features=protected_values(val()))  # fmt: skip
    pd.testing.assert_frame_equal(by_name, by_number)
