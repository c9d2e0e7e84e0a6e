"""Where overconf keeps what it caches: one root, and the folders below it.

``cache_root()`` is ``$OVERCONF_CACHE``, else ``$XDG_CACHE_HOME/overconf``, else ``~/.cache/overconf``.
Below it: ``data/`` (downloaded data sets), ``models/`` (trained models and, unless ``$OVERCONF_MODELS``
or ``--models-dir`` says otherwise, the zoo's checkpoints).
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """``$OVERCONF_CACHE``, else ``$XDG_CACHE_HOME/overconf``, else ``~/.cache/overconf``.

    >>> import os
    >>> os.environ["OVERCONF_CACHE"] = "/tmp/oc"
    >>> cache_root()
    PosixPath('/tmp/oc')
    >>> del os.environ["OVERCONF_CACHE"]
    """
    if os.environ.get("OVERCONF_CACHE"):
        return Path(os.environ["OVERCONF_CACHE"]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "overconf"
