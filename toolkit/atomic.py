"""Outputs appear whole or not at all: write to a sibling temporary name, then rename."""
from __future__ import annotations

import glob
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from toolkit.errors import BaocaoError, os_reason


def _prefix(target: Path) -> str:
    """Temporaries of `target` are ".~{stem}.{pid}.{random}{suffix}": hidden, never taken for an input
    (toolkit.city.consolidation skips dot files), and the pid tells whether their writer is still alive."""
    return f".~{target.stem}."


def _remove_leftovers(target: Path) -> None:
    """Delete temporaries of `target` left by a run that was killed (its process no longer exists)."""
    for tmp in target.parent.glob(f"{glob.escape(_prefix(target))}*{glob.escape(target.suffix)}"):
        pid = tmp.name[len(_prefix(target)):].split(".", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            tmp.unlink(missing_ok=True)


def remove_leftovers_in(folder: Path) -> None:
    """Delete every temporary in `folder` (a folder only this program writes into) whose writer was killed: for
    writes made with `atomic_path(..., tidy=False)` of targets with a suffix."""
    try:
        names = os.listdir(folder)
    except OSError:
        return  # no folder yet, nothing left in it
    for name in names:  # ".~{stem}.{pid}.{random}{suffix}": the pid is third from the end (suffixes have a dot)
        parts = name.rsplit(".", 3) if name.startswith(".~") else []
        pid = parts[1] if len(parts) == 4 else ""
        if pid.isdigit() and not _alive(int(pid)):
            (Path(folder) / name).unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


@contextmanager
def atomic_path(target: Path, tidy: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside `target`; on success it replaces `target`. `tidy`: first delete the
    temporaries of `target` a killed run left (a look through the whole folder: where a folder grows by a file
    at each write, its writer tidies it otherwise, with remove_leftovers_in)."""
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if tidy:
            _remove_leftovers(target)
        fd, name = tempfile.mkstemp(prefix=f"{_prefix(target)}{os.getpid()}.", suffix=target.suffix,
                                    dir=target.parent)
    except OSError as exc:
        raise BaocaoError(f"Không ghi được vào thư mục {target.parent}: {os_reason(exc)}",
                          detail=str(exc)) from None
    os.close(fd)
    tmp = Path(name)
    umask = os.umask(0)  # mkstemp makes the file 0600; give it the mode a plain open() would
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
        yield tmp
        os.replace(tmp, target)
    except Exception as exc:
        cause = _os_error(exc)
        if cause is None:
            raise
        raise BaocaoError(f"Không ghi được tệp {target}: {os_reason(cause)}", detail=str(exc)) from None
    finally:
        if tmp.exists():
            tmp.unlink()


def _os_error(exc: BaseException) -> OSError | None:
    """The operating-system failure behind `exc`: itself, or the one a writer library wrapped (xlsxwriter
    raises FileCreateError(OSError) when the disk fills while it zips the workbook)."""
    seen = 0
    while exc is not None and seen < 8:
        if isinstance(exc, OSError):
            return exc
        inner = [a for a in exc.args if isinstance(a, OSError)]
        exc = inner[0] if inner else exc.__cause__ or exc.__context__
        seen += 1
    return None
