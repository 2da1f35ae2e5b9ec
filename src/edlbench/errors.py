"""User-facing errors: one line naming the file, frame or parameter and what is wrong."""


class InputError(Exception):
    """Bad user input (file, frame, parameter). The CLI prints it as one line, no traceback."""


def brief(exc: BaseException) -> str:
    """An exception as one line: its type and the first line of its message."""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
