"""Where overconf keeps what it caches: one root, and the folders below it.

``cache_root()`` is ``$OVERCONF_CACHE``, else ``$XDG_CACHE_HOME/overconf``, else ``~/.cache/overconf``.
Below it: ``data/`` (downloaded data sets), ``models/`` (trained models and, unless ``$OVERCONF_MODELS``
or ``--models-dir`` says otherwise, the zoo's checkpoints).

A ``--data-dir`` the user gives is the only place the data is looked for (:func:`explicit_data_dir`).
"""

from __future__ import annotations

import os
from pathlib import Path

from overconf.errors import MissingFileError


def cache_root() -> Path:
    """``$OVERCONF_CACHE``, else ``$XDG_CACHE_HOME/overconf``, else ``~/.cache/overconf`` (tests/test_paths.py)."""
    if os.environ.get("OVERCONF_CACHE"):
        return Path(os.environ["OVERCONF_CACHE"]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "overconf"


def explicit_data_dir(data_dir: Path | None) -> Path | None:
    """``data_dir`` as a Path after checking that it is an existing folder, or None when not given.

    A folder the user names is the only place looked in: data missing there is an error, never a
    silent fall-back to another copy. Raises :class:`overconf.errors.MissingFileError`.
    """
    if data_dir is None:
        return None
    folder = Path(data_dir).expanduser()
    if not folder.is_dir():
        raise MissingFileError(f"--data-dir {folder}: {'not a folder' if folder.exists() else 'no such folder'}",
                               hint="pass an existing folder holding the data set, or leave --data-dir out")
    return folder
