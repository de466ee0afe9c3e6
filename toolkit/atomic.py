"""Outputs appear whole or not at all: write to a sibling temporary name, then rename."""
from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from toolkit.errors import BaocaoError, os_reason


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside `target`; on success it replaces `target`."""
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=".~" + target.stem, suffix=target.suffix, dir=target.parent)
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
    except OSError as exc:
        raise BaocaoError(f"Không ghi được tệp {target}: {os_reason(exc)}", detail=str(exc)) from None
    finally:
        if tmp.exists():
            tmp.unlink()
