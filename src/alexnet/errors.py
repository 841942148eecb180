"""What the person at the terminal reads: one-line errors and progress lines.

A :class:`UserError` says in one line what is wrong and how to fix it; the
CLI prints it without a traceback and exits with status 2.
"""

import contextlib
import os
import sys


class UserError(Exception):
    """A problem with the user's input: a path, a dataset, a model file."""


def first_line(error: BaseException) -> str:
    """The first line of ``error``'s message, or its type when it has none."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def plural(count, word: str) -> str:
    """``1 epoch``, ``12 epochs``."""
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def log(message: str) -> None:
    """A progress line on stderr (stdout stays for results)."""
    print(message, file=sys.stderr, flush=True)


@contextlib.contextmanager
def native_stderr_silenced():
    """Sends what C libraries write straight to file descriptor 2
    (TensorFlow's start-up notices, libjpeg's complaints) to /dev/null for
    the duration; Python's own errors are reported afterwards, in one line."""
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
