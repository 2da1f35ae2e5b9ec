"""User-facing errors: one line naming the file, frame or parameter and what is wrong."""


class InputError(Exception):
    """Bad user input (file, frame, parameter). The CLI prints it as one line, no traceback."""
