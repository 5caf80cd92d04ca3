"""Explaining models: interpretable baselines, model-agnostic methods and probes of a network's layers.

>>> from trustml.explain import load_encoder, sentence_embeddings
>>> encoder = load_encoder("embedded")    # all-MiniLM-L6-v2, shipped in a pip package
"""

from trustml.explain._probes import (
    EMBEDDED_ENCODER,
    REAL_ENCODER,
    Encoder,
    control_task,
    load_encoder,
    make_probe,
    plot_probe_layers,
    plot_projection,
    probe_layers,
    project_embeddings,
    randomly_initialised,
    sentence_embeddings,
)
from trustml.explain._tabular import complexity_sweep, count_parameters, plot_complexity

__all__ = [
    "EMBEDDED_ENCODER",
    "REAL_ENCODER",
    "Encoder",
    "complexity_sweep",
    "control_task",
    "count_parameters",
    "load_encoder",
    "make_probe",
    "plot_complexity",
    "plot_probe_layers",
    "plot_projection",
    "probe_layers",
    "project_embeddings",
    "randomly_initialised",
    "sentence_embeddings",
]
