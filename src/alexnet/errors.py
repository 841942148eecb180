"""Errors meant for the person at the terminal.

A :class:`UserError` says in one line what is wrong and how to fix it; the
CLI prints it without a traceback and exits with status 2.
"""


class UserError(Exception):
    """A problem with the user's input: a path, a dataset, a model file."""
