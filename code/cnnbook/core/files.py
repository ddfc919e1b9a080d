"""Atomic file writes, locks and checksums for everything the project writes (models, manifests, checkpoints)."""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import signal
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from cnnbook.core.exceptions import DiskFullError, LockedError

FAULT_VARIABLE = "CNNBOOK_FAULT_AT"  # tests only: "<point>:<epoch>" kills the process there (SIGKILL)
TEMPORARY_MARK = (
    ".tmp"  # every temporary file is named .<target>.<random>.tmp<suffixes>
)

# The checkout this package runs from (editable install): best_models/, checkpoints/, book/ live here.
REPOSITORY_ROOT = Path(__file__).resolve().parents[3]


def fault_point(point: str, epoch: int) -> None:
    """Test hook: die by SIGKILL at a named point of epoch `epoch` when $CNNBOOK_FAULT_AT asks for it."""
    if os.environ.get(FAULT_VARIABLE) == f"{point}:{epoch}":
        os.kill(os.getpid(), signal.SIGKILL)


def _current_umask() -> int:
    """The process umask (read by setting and restoring it)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside target; rename it over target only if the block succeeds."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    # The temporary name keeps target's extensions: Keras picks the format from them.
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{target.name}.",
        suffix=TEMPORARY_MARK + "".join(target.suffixes),
        dir=target.parent,
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.chmod(
            tmp, 0o666 & ~_current_umask()
        )  # mkstemp creates 0600; give the usual mode
        os.replace(tmp, target)
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise DiskFullError(
                f"{target.parent}: no space left on the device while writing {target.name}; "
                "free some space and run the command again"
            ) from None
        raise
    finally:
        if tmp.exists():
            tmp.unlink()


def stale_temporaries(folder: str | os.PathLike, target_name: str = "") -> list[Path]:
    """Temporary files left in folder by an interrupted atomic write (of target_name, if given)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(
        p for p in folder.glob(f".{target_name}*{TEMPORARY_MARK}*") if p.is_file()
    )


def remove_stale_temporaries(folder: str | os.PathLike, target_name: str = "") -> None:
    """Delete what interrupted atomic writes left in folder (call it while holding the folder's lock)."""
    for path in stale_temporaries(folder, target_name):
        path.unlink(missing_ok=True)


@contextmanager
def exclusive_lock(
    path: str | os.PathLike, what: str, wait: bool = False
) -> Iterator[None]:
    """Hold an exclusive lock on path (a lock file holding the owner's PID) for the block.

    The kernel releases the lock when its process dies, so a lock left by a killed run is never
    stale: the next run takes it over. With wait=False a second holder gets LockedError at once.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+", encoding="utf-8")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            handle.seek(0)
            owner = handle.read().strip() or "another process"
            raise LockedError(
                f"{path.parent} is in use by {owner} ({what}); wait for it to finish "
                "or use another folder"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"process {os.getpid()}")
        handle.flush()
        yield
    finally:
        handle.close()


def atomic_write_text(target: str | os.PathLike, text: str) -> None:
    """Write text to target atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")


def atomic_write_json(target: str | os.PathLike, obj: Any) -> None:
    """Write obj as indented JSON to target atomically."""
    atomic_write_text(target, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def sha256_file(path: str | os.PathLike) -> str:
    """sha256 hex digest of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
