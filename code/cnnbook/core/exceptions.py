"""The project's exceptions (CLI and every chapter): each carries one line saying what was wrong and what to do."""


class CnnbookError(Exception):
    """Base class: the CLI prints the message on one line and exits with code 1."""


class DataError(CnnbookError):
    """CIFAR-10 files are missing, corrupt or malformed."""


class ModelFileError(CnnbookError):
    """A trained model or manifest is missing, tampered with or inconsistent."""


class LockedError(CnnbookError):
    """A folder (checkpoint, model store) is in use by another running command."""


class CheckpointError(CnnbookError):
    """A training checkpoint exists, is unreadable, or belongs to another configuration or data set."""


class DiskFullError(CnnbookError):
    """A write failed because the disk (or quota) is full; nothing partial was left behind."""
