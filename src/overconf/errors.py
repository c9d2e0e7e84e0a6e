"""One exception family for every error a user can cause or fix.

The CLI catches :class:`OverconfError`, prints ``error: <message>`` and ``hint: <hint>`` and exits
with :attr:`OverconfError.exit_code`; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import errno


class OverconfError(Exception):
    """Base of all user-facing errors: a message saying what was wrong, and a hint saying what to do."""

    exit_code: int = 2

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if self.hint is None else f"{self.message} (hint: {self.hint})"


class ConfigError(OverconfError, ValueError):
    """An option, name or parameter that is not valid (unknown registry name, bad value)."""


class DataError(OverconfError, ValueError):
    """A data set that is missing, truncated or malformed."""


class MissingFileError(OverconfError, FileNotFoundError):
    """A file the run needs (data, checkpoint) is not where we looked."""


class RecordError(OverconfError, ValueError):
    """A record file that is damaged, misplaced, or whose values contradict each other."""


class StoreError(OverconfError, OSError):
    """A remote run folder (``s3://``) that cannot be listed, read or written (network, credentials, bucket)."""


class CheckpointError(OverconfError, ValueError):
    """A checkpoint that cannot be loaded safely or does not match its architecture."""


class MetricInputError(OverconfError, ValueError):
    """Inputs to a metric that are empty, non-finite, out of range or of mismatched length."""


class ModelOutputError(OverconfError, ValueError):
    """A model whose output is not an N × num_classes array of finite logits. Raised by the engine before any
    record of that model × cell exists; the run loop stops only that model and goes on with the others."""



_OS_HINTS = {
    errno.ENOSPC: "the disk is full: free space there, or write somewhere else (e.g. another --out)",
    errno.EDQUOT: "your disk quota is used up: free space, or write somewhere else (e.g. another --out)",
    errno.EACCES: "you may not read or write there: check its permissions, or use another path",
    errno.EPERM: "the operation is not permitted there: check its permissions, or use another path",
    errno.EROFS: "that file system is read-only: write somewhere else (e.g. another --out)",
    errno.ENOENT: "check that the path exists (and its parent folders)",
    errno.ENOTDIR: "a part of the path is a file, not a folder: check the path",
    errno.EISDIR: "the path is a folder where a file was expected: check the path",
    errno.EEXIST: "something already exists at that path: move it away or use another path",
    errno.ENAMETOOLONG: "the path or a name in it is too long: use a shorter one",
}


def describe_os_error(exc: OSError) -> tuple[str, str]:
    """One error line naming the path(s) of an :class:`OSError`, and the hint that fits its errno.

    >>> describe_os_error(OSError(errno.ENOSPC, "No space left on device", "/runs/x/records"))
    ('No space left on device: /runs/x/records', 'the disk is full: free space there, or write somewhere else (e.g. another --out)')
    """
    paths = " → ".join(str(p) for p in (exc.filename, exc.filename2) if p)
    message = f"{exc.strerror or exc}" + (f": {paths}" if paths else "")
    return message, _OS_HINTS.get(exc.errno or -1, "check the path and that you may read and write there")
