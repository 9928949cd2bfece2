"""Domain errors with stable codes; interfaces turn them into exit codes or HTTP replies."""

from __future__ import annotations


class RevloopError(Exception):
    """Base of every error revloop raises on purpose; ``code`` is stable across releases."""

    code = "revloop_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(RevloopError):
    """Settings, mapping files or URLs that cannot be used."""

    code = "config_error"


class InputFileError(RevloopError):
    """A whole input file is unusable (wrong delimiter, missing column, empty, unreadable)."""

    code = "input_file_error"

    def __init__(self, path: str, message: str, *, code: str | None = None) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        if code:
            self.code = code


class StoreError(RevloopError):
    """The store cannot be reached or is in a state revloop cannot work with."""

    code = "store_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code:
            self.code = code
