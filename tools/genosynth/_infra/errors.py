"""Exceptions that the command line turns into exit codes and one-line messages."""

from __future__ import annotations


def first_line(err: BaseException) -> str:
    """The first line of a library exception's message (its type's name when it has none), for one-line errors."""
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


class InputError(Exception):
    """Bad input or usage: the message names the file, the record and the problem; exit code 1.

    Examples
    --------
    >>> import genosynth
    >>> genosynth.read_haplotypes("no-such-file.vcf.gz")
    Traceback (most recent call last):
    genosynth.InputError: no-such-file.vcf.gz: no such file
    >>> genosynth.InputError.exit_code
    1
    """

    exit_code = 1


class OptionError(InputError, ValueError):
    """A bad value of one option: ``parameter`` is its keyword name in the Python API.

    The message reads ``"<parameter> <problem>"``; the command line names the matching flag instead
    (``--max-time`` for ``max_time``), so each layer speaks its caller's language.

    Example
    -------
    >>> str(OptionError("max_time", "'soon': expected a duration such as 90s, 20m or 1h30m"))
    "max_time 'soon': expected a duration such as 90s, 20m or 1h30m"
    >>> OptionError("gibbs_steps", "must be >= 1").message_for("--gibbs-steps")
    '--gibbs-steps must be >= 1'
    """

    def __init__(self, parameter: str, problem: str) -> None:
        super().__init__(f"{parameter} {problem}")
        self.parameter = parameter
        self.problem = problem

    def message_for(self, flag: str) -> str:
        """The message with ``flag`` (a command-line option) in place of the parameter name."""
        return f"{flag} {self.problem}"


class GateFailed(Exception):
    """A quality or privacy gate was exceeded (the report is written first); exit code 2.

    The library returns its reports with their ``failures``; the command line writes the report, then raises
    this, so that ``genosynth privacy-check`` exits 2 when its gate fails.

    Examples
    --------
    >>> import genosynth
    >>> genosynth.GateFailed("privacy-check: exact_copies 3 > 0").exit_code
    2
    """

    exit_code = 2


class TrainingDiverged(InputError):
    """Training produced non-finite weights; the trainer keeps an early-stopping state if it has one, else exit 1."""
