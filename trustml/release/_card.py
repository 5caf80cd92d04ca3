"""A Hugging Face model card written from what the course measured about a model."""

from __future__ import annotations

import difflib
import math
import platform
import re
from collections.abc import Mapping, Sequence

import numpy as np

__all__ = ["RESULT_SECTIONS", "model_card"]

# the card's result sections: keyword argument -> heading in the card
RESULT_SECTIONS = {
    "metrics": "Performance",
    "fairness": "Fairness",
    "calibration": "Calibration",
    "ood": "Out-of-distribution inputs",
}


def _template_variables() -> set[str]:
    """The variables of huggingface_hub's model card template (what ``fields=`` may fill)."""
    from pathlib import Path

    import jinja2.meta
    from huggingface_hub.repocard import ModelCard

    source = Path(ModelCard.default_template_path).read_text(encoding="utf-8")
    return jinja2.meta.find_undeclared_variables(jinja2.Environment().parse(source)) - {"card_data"}


def _check_text(name: str, value, *, required: bool = True) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be a non-empty string (Markdown), got {value!r}.")
    return value.strip()


def _check_measured(measured) -> dict[str, float]:
    if not isinstance(measured, Mapping):
        raise TypeError(
            f"measured must be a mapping from metric names to numbers, e.g. {{'accuracy': 0.71}}; "
            f"got {type(measured).__name__}."
        )
    values = {}
    for name, value in measured.items():
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"measured's keys must be metric names (non-empty strings), got {name!r}.")
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise TypeError(f"measured[{name!r}] must be a number, got {type(value).__name__} {value!r}.")
        if not math.isfinite(float(value)):
            raise ValueError(f"measured[{name!r}] is {float(value)}: a card reports finite numbers only.")
        values[name] = float(value)
    return values


def _check_names(section: str, names, measured: dict[str, float]) -> list[str]:
    if isinstance(names, str) or not isinstance(names, Sequence):
        raise TypeError(f"{section} must be a list of names from measured, e.g. [{names!r}]; got {names!r}.")
    for name in names:
        if name not in measured:
            close = difflib.get_close_matches(str(name), list(measured), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ValueError(
                f"The card's {RESULT_SECTIONS[section].lower()} section ({section}=) asks for {name!r}, which was "
                f"never computed: measured has {', '.join(map(repr, measured)) or 'nothing'}.{hint} Compute it "
                f"and add it to measured, or leave it out of {section}= (a section without metrics says "
                f"'Not measured')."
            )
    return list(names)


def _number(value: float) -> str:
    return f"{value:.3f}" if abs(value) < 1000 else f"{value:,.0f}"


def _markdown_table(header: Sequence[str], rows: Sequence[Sequence]) -> str:
    def cell(value) -> str:
        if isinstance(value, (float, np.floating)):
            return "n/a" if math.isnan(value) else _number(float(value))
        return str(value).replace("|", "\\|")

    lines = ["| " + " | ".join(map(cell, header)) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(map(cell, row)) + " |" for row in rows]
    return "\n".join(lines)


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "metric"


def _bullets(items) -> str:
    if isinstance(items, str):
        return items.strip()
    return "\n".join(f"- {item}" for item in items)


def _section(heading: str, names, measured, *, note=None, table=None) -> str:
    parts = [f"#### {heading}"]
    if names:
        parts.append(_markdown_table(["metric", "value"], [(name, measured[name]) for name in names]))
    if table is not None:
        parts.append(table)
    if note:
        parts.append(note)
    if len(parts) == 1:
        parts.append("Not measured.")
    return "\n\n".join(parts)


def model_card(
    measured,
    *,
    name,
    summary,
    intended_use,
    out_of_scope_use,
    training_data,
    evaluation_data,
    training,
    metrics,
    limitations,
    dataset,
    fairness=(),
    by_group=None,
    calibration=(),
    ood=(),
    notes=None,
    recommendations=None,
    preprocessing=None,
    model=None,
    task="tabular-classification",
    license="mit",
    tags=(),
    fields=None,
):
    """Write a Hugging Face model card (YAML metadata + Markdown) from what was measured about a model.

    The card follows ``huggingface_hub``'s model card template: uses, limitations,
    training data and procedure, evaluation; what this function is not given stays
    "[More Information Needed]", visibly. The results come from ``measured``: the
    four result sections (performance, fairness, calibration, out-of-distribution
    inputs) name which of its numbers they report, and asking for one that was
    never computed is an error. A section that names none says "Not measured".

    Parameters
    ----------
    measured : mapping of str to float
        Everything measured about the model, by name (e.g. ``{"accuracy": 0.71, "ECE": 0.08}``).
    name : str
        The model's name.
    summary : str
        One or two sentences: what the model does.
    intended_use, out_of_scope_use : str
        Who should use it for what, and what it must not be used for.
    training_data, evaluation_data : str
        Where the data came from, its licence, size, groups, split.
    training : mapping
        The training set-up (epochs, optimiser, seed...), one entry per line.
    metrics : sequence of str
        Names from ``measured`` for the performance section (at least one).
    limitations : str or sequence of str
        Known limitations, biases and risks.
    dataset : str
        A short identifier of the evaluation data set for the card's metadata.
    fairness, calibration, ood : sequence of str, optional
        Names from ``measured`` for those sections.
    by_group : pandas.DataFrame, optional
        Metrics per group (e.g. :func:`trustml.fairness.metrics_by_group`), shown under fairness.
    notes : mapping, optional
        A paragraph for any of the result sections, keyed ``"metrics"``, ``"fairness"``,
        ``"calibration"`` or ``"ood"`` (how it was measured, what it means).
    recommendations, preprocessing : str, optional
    model : torch.nn.Module, optional
        The model: its architecture and size go into the card.
    task : str, default "tabular-classification"
        The Hub's task name (``pipeline_tag``).
    license : str, default "mit"
    tags : sequence of str
    fields : mapping of str to str, optional
        Any other variable of the Hugging Face template (e.g. ``developers``,
        ``model_card_contact``, ``citation_bibtex``).

    Returns
    -------
    huggingface_hub.ModelCard
        ``str(card)`` is the README.md; ``card.data`` the metadata (every reported number as an
        evaluation result, rounded to 4 decimals; the tables show 3); ``card.save(path)`` writes it.

    Examples
    --------
    >>> from trustml.release import model_card
    >>> card = model_card(
    ...     {"accuracy": 0.71, "ECE": 0.08}, name="tiny", summary="A demo.", intended_use="Teaching.",
    ...     out_of_scope_use="Decisions about people.", training_data="Made up.", evaluation_data="Made up.",
    ...     training={"epochs": 3}, metrics=["accuracy"], calibration=["ECE"], limitations="A demo only.",
    ...     dataset="toy")
    >>> card.data.eval_results[0].metric_type, card.data.eval_results[0].metric_value
    ('accuracy', 0.71)
    >>> "#### Out-of-distribution inputs\\n\\nNot measured." in str(card)
    True
    >>> model_card({"accuracy": 0.71}, name="tiny", summary="A demo.", intended_use="Teaching.",
    ...     out_of_scope_use="Decisions.", training_data="Made up.", evaluation_data="Made up.",
    ...     training={}, metrics=["accuracy"], calibration=["ECE"], limitations="A demo.", dataset="toy")
    Traceback (most recent call last):
    ...
    ValueError: The card's calibration section (calibration=) asks for 'ECE', which was never computed: ...
    """
    import pandas as pd
    import torch
    from huggingface_hub import EvalResult, ModelCard, ModelCardData

    import trustml

    values = _check_measured(measured)
    sections = {key: _check_names(key, names, values) for key, names in
                {"metrics": metrics, "fairness": fairness, "calibration": calibration, "ood": ood}.items()}
    if not sections["metrics"]:
        raise ValueError("metrics must name at least one number from measured: a card without results is no card.")
    texts = {
        key: _check_text(key, value)
        for key, value in [("name", name), ("summary", summary), ("intended_use", intended_use),
                           ("out_of_scope_use", out_of_scope_use), ("training_data", training_data),
                           ("evaluation_data", evaluation_data), ("dataset", dataset), ("task", task),
                           ("license", license)]
    }
    if isinstance(limitations, str):
        limitations_text = _check_text("limitations", limitations)
    elif isinstance(limitations, Sequence) and limitations:
        limitations_text = _bullets([_check_text("each limitation", item) for item in limitations])
    else:
        raise ValueError(f"limitations must be a string or a non-empty list of strings, got {limitations!r}.")
    recommendations = _check_text("recommendations", recommendations, required=False)
    preprocessing = _check_text("preprocessing", preprocessing, required=False)
    if not isinstance(training, Mapping):
        raise TypeError(f"training must be a mapping of the training set-up, e.g. {{'epochs': 20}}; got {training!r}.")
    if by_group is not None and not isinstance(by_group, pd.DataFrame):
        raise TypeError(f"by_group must be a pandas DataFrame (one row per group), got {type(by_group).__name__}.")
    notes = dict(notes or {})
    unknown = sorted(set(notes) - set(RESULT_SECTIONS))
    if unknown:
        raise ValueError(f"notes has {unknown[0]!r}; its keys are the result sections {list(RESULT_SECTIONS)}.")
    notes = {key: _check_text(f"notes[{key!r}]", value) for key, value in notes.items()}
    fields = dict(fields or {})
    allowed = _template_variables()
    unknown = sorted(set(fields) - allowed)
    if unknown:
        close = difflib.get_close_matches(unknown[0], sorted(allowed), n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ValueError(f"fields has {unknown[0]!r}, which the model card template does not have ({hint}"
                         f"its fields are {', '.join(sorted(allowed))}).")
    if model is not None and not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}.")
    if isinstance(tags, str) or not all(isinstance(tag, str) for tag in tags):
        raise TypeError(f"tags must be a list of strings, got {tags!r}.")

    reported = [name for key in RESULT_SECTIONS for name in sections[key]]
    results = [_section(RESULT_SECTIONS["metrics"], sections["metrics"], values, note=notes.get("metrics"))]
    group_table = None
    if by_group is not None:
        group_table = _markdown_table([by_group.index.name or "group", *map(str, by_group.columns)],
                                      list(by_group.itertuples(index=True, name=None)))
    results.append(_section(RESULT_SECTIONS["fairness"], sections["fairness"], values,
                            note=notes.get("fairness"), table=group_table))
    for key in ("calibration", "ood"):
        results.append(_section(RESULT_SECTIONS[key], sections[key], values, note=notes.get(key)))

    content = {
        "model_id": texts["name"],
        "model_summary": texts["summary"],
        "model_description": texts["summary"],
        "direct_use": texts["intended_use"],
        "out_of_scope_use": texts["out_of_scope_use"],
        "bias_risks_limitations": limitations_text,
        "training_data": texts["training_data"],
        "training_regime": "fp32" + "".join(f"\n  - {key}: {value}" for key, value in training.items()),
        "testing_data": texts["evaluation_data"],
        "testing_metrics": "\n".join(f"- {RESULT_SECTIONS[key].lower()}: {', '.join(sections[key])}"
                                     for key in RESULT_SECTIONS if sections[key]),
        "results": "\n\n".join(results),
        "software": f"Python {platform.python_version()}, PyTorch {torch.__version__.split('+')[0]}, "
                    f"trustml {trustml.__version__}",
    }
    if recommendations:
        content["bias_recommendations"] = recommendations
    if preprocessing:
        content["preprocessing"] = preprocessing
    if by_group is not None:
        groups = ", ".join(map(str, by_group.index))
        content["testing_factors"] = f"Results are broken down by {by_group.index.name or 'group'} ({groups})."
    if model is not None:
        size = sum(p.numel() for p in model.parameters())
        arguments = getattr(model, "init_args", None)
        built = (f"{type(model).__name__}(" + ", ".join(f"{k}={v!r}" for k, v in arguments.items()) + ")"
                 if arguments is not None else type(model).__name__)
        content["model_type"] = f"{type(model).__name__} classifier (PyTorch), {size:,} parameters"
        content["model_specs"] = f"`{built}`: {size:,} parameters, trained with cross-entropy."
    content.update(fields)

    data = ModelCardData(
        model_name=texts["name"],
        license=texts["license"],
        library_name="pytorch",
        pipeline_tag=texts["task"],
        datasets=[texts["dataset"]],
        metrics=[_slug(name) for name in reported],
        tags=sorted({"trustml", "model-card", *tags}),
        eval_results=[
            EvalResult(task_type=texts["task"], dataset_type=texts["dataset"], dataset_name=texts["dataset"],
                       metric_type=_slug(name), metric_name=name, metric_value=round(values[name], 4))
            for name in reported
        ],
    )
    return ModelCard.from_template(data, **content)
