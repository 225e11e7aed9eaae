"""Messages and progress on standard error, through :mod:`logging` (logger ``genosynth``): informational lines
``genosynth STEP: ...``, a live progress line on a terminal and plain periodic lines otherwise (Galaxy and Nextflow
logs). The command line's ``--quiet`` keeps warnings and errors only, ``--verbose`` adds debugging lines."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable

from genosynth._infra.atomic import raise_if_stopped


class Progress:
    """Reports ``done`` of ``total`` units (total may be unknown) with extra fields such as losses.

    On a terminal the line is redrawn in place at most 10 times a second; when standard error is not a
    terminal a plain line is written every ``interval`` seconds and at the end. With ``time_limit`` (seconds)
    the ETA never runs past that budget; ``enabled`` False reports nothing.

    Example
    -------
    >>> p = Progress("vcf-to-matrix", unit="sites")
    >>> p.update(1000)
    >>> p.close()
    """

    def __init__(
        self,
        step: str,
        *,
        unit: str,
        total: int | None = None,
        interval: float = 10.0,
        time_limit: float | None = None,
        enabled: bool = True,
    ) -> None:
        self.step = step
        self.enabled = enabled
        self.time_limit = time_limit
        self.unit = unit
        self.total = total
        self.done = 0
        self._start = time.monotonic()
        self._last = self._start
        self._tty = sys.stderr.isatty()
        self._interval = 0.1 if self._tty else interval
        self._fields: dict[str, object] = {}

    def update(self, advance: int, **fields: object) -> None:
        """Add ``advance`` units done and remember ``fields`` for the next report."""
        raise_if_stopped()
        self.done += advance
        self._fields.update(fields)
        now = time.monotonic()
        if now - self._last >= self._interval:
            self._last = now
            self._report(final=False)

    def close(self) -> None:
        """Write the final report."""
        self._report(final=True)

    def _report(self, *, final: bool) -> None:
        if not self.enabled or not LOGGER.isEnabledFor(logging.INFO):
            return
        elapsed = time.monotonic() - self._start
        text = f"{self.done:,}" + (f"/{self.total:,}" if self.total else "") + f" {self.unit}"
        text += "".join(f", {k} {v:.4g}" if isinstance(v, float) else f", {k} {v}" for k, v in self._fields.items())
        text += f", elapsed {_clock(elapsed)}"
        if self.total and self.done and not final:
            remaining = elapsed * (self.total - self.done) / self.done
            if self.time_limit is not None:
                remaining = min(remaining, max(0.0, self.time_limit - elapsed))
            text += f", ETA {_clock(remaining)}"
        if self._tty:
            while _PENDING_NOTES:
                log(None, _PENDING_NOTES.pop(0))
            sys.stderr.write(f"\r\033[Kgenosynth {self.step}: {text}" + ("\n" if final else ""))
            sys.stderr.flush()
        else:
            log(self.step, text)


LOGGER = logging.getLogger("genosynth")


class _StepFormatter(logging.Formatter):
    """``genosynth STEP: message``, the step being the record's own or the command's (:func:`configure_logging`)."""

    step = ""

    def format(self, record: logging.LogRecord) -> str:
        step = getattr(record, "step", None) or self.step
        return f"genosynth {step}: {record.getMessage()}" if step else f"genosynth: {record.getMessage()}"


_HANDLER = logging.StreamHandler()  # standard error as it is when a message is written (tests swap it)
_HANDLER.setFormatter(_StepFormatter())


def configure_logging(step: str = "", *, level: int = logging.INFO) -> None:
    """Write the ``genosynth`` logger's messages of ``level`` and above on standard error, each line naming
    ``step`` unless the message names its own.

    Example
    -------
    >>> configure_logging("sample", level=logging.WARNING)
    >>> log("sample", "not shown")
    >>> configure_logging()
    """
    _HANDLER.formatter.step = step  # type: ignore[union-attr]
    LOGGER.setLevel(level)
    if _HANDLER not in LOGGER.handlers:
        LOGGER.addHandler(_HANDLER)
    LOGGER.propagate = False


_PENDING_NOTES: list[str] = []  # said before the next progress or result line, not before an error


def log(step: str | None, message: str, *, level: int = logging.INFO) -> None:
    """One line on standard error (``step`` None: the command's step)."""
    if not LOGGER.handlers:
        configure_logging()
    _HANDLER.setStream(sys.stderr)
    if level < logging.ERROR:
        while _PENDING_NOTES:
            LOGGER.info(_PENDING_NOTES.pop(0), extra={"step": None})
    LOGGER.log(level, message, extra={"step": step})


def note(message: str) -> None:
    """An informational line said with the step's next progress or result line: a run that fails before either
    ends with its one error line only."""
    _PENDING_NOTES.append(message)


def warn(message: str) -> None:
    """One warning line on standard error, shown even with ``--quiet``."""
    log(None, f"warning: {message}", level=logging.WARNING)


def logger(step: str, enabled: bool = True) -> Callable[[str], None]:
    """A function writing :func:`log` lines of ``step``, or nothing when not ``enabled``."""
    return (lambda message: log(step, message)) if enabled else (lambda message: None)


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"
