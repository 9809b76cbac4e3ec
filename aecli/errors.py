"""The one error family of aecli. The CLI turns these into `Error: ...` lines."""


class AecliError(Exception):
    """A runtime problem the user can fix (exit code 1)."""

    exit_code = 1


class UsageError(AecliError):
    """An option value that cannot work (exit code 2)."""

    exit_code = 2


class TrainingInterrupted(AecliError):
    """Training was stopped by a signal; the last complete epoch is saved."""

    exit_code = 130
