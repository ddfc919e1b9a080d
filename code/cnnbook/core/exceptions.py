"""The project's exceptions: each carries one line that says what was wrong and what to do."""


class CnnbookError(Exception):
    """Base class: the CLI prints the message on one line and exits with code 1."""


class DataError(CnnbookError):
    """CIFAR-10 files are missing, corrupt or malformed."""


class ModelFileError(CnnbookError):
    """A trained model or manifest is missing, tampered with or inconsistent."""
