"""One exception family for every error a user can cause or fix.

The CLI catches :class:`OverconfError`, prints ``error: <message>`` and ``hint: <hint>`` and exits
with :attr:`OverconfError.exit_code`; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


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


class CheckpointError(OverconfError, ValueError):
    """A checkpoint that cannot be loaded safely or does not match its architecture."""


class MetricInputError(OverconfError, ValueError):
    """Inputs to a metric that are empty, non-finite, out of range or of mismatched length."""

