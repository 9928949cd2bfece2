"""Temporary spool folders of imports: private, named after their process, never left behind.

An import stages rows in a temporary folder (Parquet files) before they reach the store. The
folder is created with owner-only permissions and removed on every way out of the import;
when a process is killed outright (kill -9) its folder is found by the next import — the name
carries the process id — and removed, since the rows in it are copies of imported (personal)
data. A full disk while spooling is reported as such, with where the spool lives.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from pathlib import Path

from revloop.errors import StoreError

_PREFIX = "revloop-spool-"
_FULL = (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def sweep(root: Path | None = None) -> list[Path]:
    """Remove the spool folders of processes that no longer run; the folders removed."""
    base = Path(root or tempfile.gettempdir())
    removed = []
    for folder in base.glob(f"{_PREFIX}*"):
        pid_text = folder.name[len(_PREFIX):].split("-", 1)[0]
        if pid_text.isdigit() and not _alive(int(pid_text)) and folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def new_spool(kind: str = "import") -> Path:
    """A private (0700) temporary folder named after this process."""
    sweep()
    return Path(tempfile.mkdtemp(prefix=f"{_PREFIX}{os.getpid()}-{kind}-"))


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` says the disk (or a file-size limit) is full."""
    return (isinstance(exc, OSError) and exc.errno in _FULL) or (
        "No space left" in str(exc) or "File too large" in str(exc))


def disk_full(exc: BaseException, where: Path) -> StoreError:
    """The clear error of a full disk while writing under ``where``."""
    return StoreError(f"no space left while writing the import's temporary files under "
                      f"{where.parent} ({exc.__class__.__name__}: {exc}); nothing was stored. "
                      "Free space there or point TMPDIR at a larger disk", code="disk_full")
