"""Release a model: save and load it with its config, write its model card, share it on the Hugging Face Hub.

Save and load (:func:`save_model`, :func:`load_model`, :func:`load_config`):
safetensors weights plus a JSON config naming the trustml model class and the
arguments it was built with; loading rebuilds the model, checks every tensor's
shape against it, then loads the weights. Document (:func:`model_card`): a
Hugging Face model card written from the numbers measured about the model. Share
(:func:`push_to_hub`): upload the folder, only when a token and the network are there.

>>> import tempfile
>>> from trustml.models import MLP
>>> from trustml.release import load_model, save_model
>>> folder = save_model(MLP(4, 2, hidden=(8,)), tempfile.mkdtemp())
>>> load_model(folder).init_args
{'in_features': 4, 'num_classes': 2, 'hidden': [8], 'dropout': 0.0}
"""

from trustml.release._card import RESULT_SECTIONS, model_card
from trustml.release._hub import HubUnavailableError, push_to_hub
from trustml.release._saving import CONFIG_FILE, WEIGHTS_FILE, load_config, load_model, save_model

__all__ = [
    "CONFIG_FILE",
    "RESULT_SECTIONS",
    "WEIGHTS_FILE",
    "HubUnavailableError",
    "load_config",
    "load_model",
    "model_card",
    "push_to_hub",
    "save_model",
]
