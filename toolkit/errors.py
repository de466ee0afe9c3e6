"""Program failures carry a Vietnamese message; data problems are findings, not exceptions."""
from __future__ import annotations

import errno
import tempfile
import traceback
from datetime import datetime
from pathlib import Path

LOG = Path(tempfile.gettempdir()) / "baocao_loi.log"


class BaocaoError(Exception):
    """A failure the user can act on: the message is shown as is, exit code 2.

    `code` names the kind of refusal (a catalogue code); `detail` is the technical text
    (a library's exception) shown only on request (--chi-tiet) or in the log, never to a user."""

    exit_code = 2

    def __init__(self, message: str, *, path: str | None = None, code: str = "", detail: str = ""):
        self.path, self.code, self.detail = path, code, detail
        super().__init__(f"{path}: {message}" if path else message)


def log_failure(exc: BaseException, context: str = "") -> Path:
    """Append the traceback of an unexpected failure to the log an administrator reads; its path."""
    try:
        with LOG.open("a", encoding="utf-8") as fh:
            fh.write(f"--- {datetime.now().isoformat(timespec='seconds')} {context}\n")
            fh.write("".join(traceback.format_exception(exc)))
    except OSError:
        pass  # an unwritable temp folder must not hide the Vietnamese message that follows
    return LOG


_OS_REASONS = {errno.EACCES: "không có quyền truy cập", errno.EPERM: "không có quyền truy cập",
               errno.ENOSPC: "ổ đĩa đã đầy", errno.ENOENT: "không tìm thấy", errno.EROFS: "ổ đĩa chỉ cho đọc",
               errno.EISDIR: "là một thư mục", errno.ENOTDIR: "đường dẫn không phải thư mục",
               errno.ENAMETOOLONG: "tên tệp quá dài", errno.EBUSY: "tệp đang được mở ở chương trình khác",
               errno.EEXIST: "đã có một tệp cùng tên (không phải thư mục)"}


def os_reason(exc: OSError) -> str:
    """An operating-system failure in Vietnamese (its English strerror is for the log)."""
    return _OS_REASONS.get(exc.errno, "lỗi hệ thống tệp")
