"""Upload a saved model's folder to the Hugging Face Hub, only when a token and the network are there."""

from __future__ import annotations

import os
import re
from pathlib import Path

__all__ = ["HubUnavailableError", "push_to_hub"]

_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*/[A-Za-z0-9][\w.\-]*$")
_TOKENS_PAGE = "https://huggingface.co/settings/tokens"


class HubUnavailableError(RuntimeError):
    """The Hub cannot be reached from here: no network allowed, no token, or the upload failed."""


def push_to_hub(directory, repo_id, *, token=None, private=True, commit_message="Upload a model saved with trustml"):
    """Upload a folder written by :func:`save_model` (or ``save_pretrained``) to a model repository on the Hub.

    Nothing touches the network unless both are there: the network (``TRUSTML_OFFLINE``
    and ``HF_HUB_OFFLINE`` not set) and a Hugging Face token (``token=``, else
    ``HF_TOKEN`` or the one ``hf auth login`` stored). Otherwise a
    :class:`HubUnavailableError` says which is missing and how to get it.

    Parameters
    ----------
    directory : str or pathlib.Path
        The folder to upload, every file in it (weights, config, ``README.md``).
    repo_id : str
        ``"your-user-name/model-name"``; created if it does not exist.
    token : str, optional
        A token with write access; default the logged-in one.
    private : bool, default True
        Create the repository as private (a first upload should not publish a model by accident).
    commit_message : str

    Returns
    -------
    str
        The URL of the commit on the Hub.

    Examples
    --------
    >>> import os, tempfile
    >>> from trustml.models import MLP
    >>> from trustml.release import HubUnavailableError, push_to_hub, save_model
    >>> folder = save_model(MLP(4, 2), tempfile.mkdtemp())
    >>> os.environ["TRUSTML_OFFLINE"]
    '1'
    >>> try:
    ...     push_to_hub(folder, "your-name/tiny-mlp")
    ... except HubUnavailableError as err:
    ...     print(str(err)[:60])
    Not pushed: uploading to the Hugging Face Hub needs the netw
    """
    from trustml.config import settings
    from trustml.release._saving import CONFIG_FILE

    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"directory {directory} is not a folder: name the folder that save_model wrote.")
    if not (directory / CONFIG_FILE).is_file():
        raise FileNotFoundError(f"{directory} has no {CONFIG_FILE}: save the model into it first (save_model).")
    if not isinstance(repo_id, str) or not _REPO_ID.match(repo_id):
        raise ValueError(f"repo_id must look like 'your-user-name/model-name', got {repo_id!r}.")
    if settings().offline:
        raise HubUnavailableError(
            "Not pushed: uploading to the Hugging Face Hub needs the network, and TRUSTML_OFFLINE=1 forbids it. "
            "Online, set TRUSTML_OFFLINE=0 (or unset it) and push again."
        )
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}:
        raise HubUnavailableError("Not pushed: HF_HUB_OFFLINE is set, which keeps huggingface_hub off the network.")
    import huggingface_hub

    token = token or huggingface_hub.get_token()
    if not token:
        raise HubUnavailableError(
            f"Not pushed: no Hugging Face token. Create one with write access at {_TOKENS_PAGE}, then run "
            f"`hf auth login` (or set HF_TOKEN, or pass token=) and push again."
        )
    from huggingface_hub.errors import HTTPError

    api = huggingface_hub.HfApi(token=token)
    try:
        repo = api.create_repo(repo_id=repo_id, private=private, exist_ok=True)
        commit = api.upload_folder(
            repo_id=repo.repo_id, folder_path=str(directory), repo_type="model", commit_message=commit_message
        )
    except (OSError, HTTPError) as err:
        raise HubUnavailableError(f"Not pushed: the Hub could not be reached or refused the upload: {err}") from err
    return str(getattr(commit, "commit_url", commit))
