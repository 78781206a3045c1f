"""One process at a time on a file: an exclusive ``flock`` on a sibling ``<file>.lock`` that
holds the PID of its holder. The kernel releases it when the process ends, however it ends
(SIGKILL included); a clean release also removes the lock file.
"""

from __future__ import annotations

import contextlib
import errno
import math
import os
import time
from pathlib import Path

from usms_cli.core.errors import ConfigError, InputError
from usms_cli.i18n import N_, tr

NO_SPACE = {
    errno.ENOSPC: N_("no space left on the device"),
    errno.EDQUOT: N_("no space left (disk quota exceeded)"),
    errno.EFBIG: N_("no space left (file size limit reached)"),
}


def os_reason(exc: OSError) -> str:
    """An OSError in words; a full disk, a quota and a file size limit read alike."""
    words = NO_SPACE.get(exc.errno or 0)
    return tr(words) if words else exc.strerror or str(exc)


def lock_path(path: Path) -> Path:
    return path.with_name(path.name + ".lock")


class Lock:
    """A held lock; :meth:`release` lets the next process have it."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    def release(self) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(OSError):  # removed while held: nobody locks a stale file
            os.unlink(self.path)
        os.close(self._fd)
        self._fd = None


def lock(path: Path, wait: float, option: str) -> Lock:
    """Hold ``path`` for this process, waiting up to ``wait`` seconds for another to let go;
    a ConfigError (exit 2) naming ``option``, the file and the holder's PID otherwise."""
    import fcntl

    if not (math.isfinite(wait) and wait >= 0):
        raise InputError(tr("--wait-lock must be a number of seconds ≥ 0"))
    where = lock_path(path.resolve())  # a symlink to the file shares its lock
    deadline = time.monotonic() + wait
    while True:
        flags = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW
        try:
            fd = os.open(where, flags, 0o600)
        except OSError as exc:
            raise ConfigError(
                tr(
                    "{option} {path}: cannot create its lock file {lock} ({reason})",
                    option=option,
                    path=path,
                    lock=where,
                    reason=os_reason(exc),
                )
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = _holder(fd)
            os.close(fd)
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise ConfigError(
                    tr(
                        "{option} {path}: cannot lock it ({reason})",
                        option=option,
                        path=path,
                        reason=os_reason(exc),
                    )
                ) from None
            if time.monotonic() >= deadline:
                raise _in_use(option, path, holder, wait) from None
            time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))
            continue
        if _same_file(fd, where):
            _write_pid(fd)
            return Lock(where, fd)
        os.close(fd)  # the holder removed it as we opened it: lock the new one


def _in_use(option: str, path: Path, holder: str, wait: float) -> ConfigError:
    fields = {"option": option, "path": path, "holder": holder, "wait": wait}
    if wait:
        message = tr(
            "{option} {path} is in use by another usms run ({holder}) after waiting {wait:g} s; "
            "nothing was sent",
            **fields,
        )
    else:
        message = tr(
            "{option} {path} is in use by another usms run ({holder}); nothing was sent", **fields
        )
    hint = tr("let that run finish, or pass --wait-lock SECONDS to wait for it")
    return ConfigError(message, hint=hint)


def _same_file(fd: int, where: Path) -> bool:
    try:
        mine, there = os.fstat(fd), os.stat(where, follow_symlinks=False)
    except OSError:
        return False
    return (mine.st_dev, mine.st_ino) == (there.st_dev, there.st_ino)


def _write_pid(fd: int) -> None:
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
    except OSError:
        pass  # a full disk: the lock holds all the same, only its PID is not shown


def _holder(fd: int) -> str:
    """``PID 1234`` of the process holding the lock (it writes it just after locking)."""
    for _ in range(10):
        try:
            text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        except OSError:
            break
        if text.isdigit():
            return f"PID {text}"
        time.sleep(0.02)
    return tr("PID unknown")
