"""Exceptions that the command line turns into exit codes and one-line messages."""


class InputError(Exception):
    """Bad input or usage: the message names the file, the record and the problem; exit code 1."""

    exit_code = 1


class GateFailed(Exception):
    """A quality or privacy gate was exceeded (the report is written first); exit code 2."""

    exit_code = 2


class TrainingDiverged(InputError):
    """Training produced non-finite weights; the trainer keeps an early-stopping state if it has one, else exit 1."""
