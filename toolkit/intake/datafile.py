"""Readable data files (YAML) that fill an intake workbook: metadata, code -> value, list rows, texts."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from toolkit.definition import Form, nfc
from toolkit.errors import BaocaoError, os_reason

KEYS = ("thong_tin", "so_lieu", "ghi_chu", "giai_trinh", "danh_sach")


def _nfc(value: Any) -> Any:
    if isinstance(value, str):
        return nfc(value)
    if isinstance(value, dict):
        return {k: _nfc(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_nfc(v) for v in value]
    return value


def load_data(path: Path | str, form: Form) -> dict[str, Any]:
    """Parse and check a data file against the form; every problem names the file and key."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BaocaoError(f"không đọc được tệp dữ liệu ({os_reason(exc)})", path=str(path), detail=str(exc)) from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" (dòng {where.line + 1})" if where else ""
        raise BaocaoError(f"tệp dữ liệu sai cú pháp YAML{line}", path=str(path)) from None
    if not isinstance(data, dict):
        raise BaocaoError("tệp dữ liệu phải là một bảng khóa: giá trị", path=str(path))
    problems = [f"khóa «{k}» không hợp lệ (chỉ nhận {', '.join(KEYS)})" for k in data if k not in KEYS]
    meta = {f.code for f in form.metadata}
    codes = {i.code for i in form.indicators}
    problems += [f"thong_tin: mã «{k}» không có trong biểu mẫu" for k in (data.get("thong_tin") or {})
                 if k not in meta]
    for key in ("so_lieu", "ghi_chu", "giai_trinh"):
        problems += [f"{key}: mã «{k}» không có trong biểu mẫu" for k in (data.get(key) or {})
                     if k not in codes]
    for list_id, rows in (data.get("danh_sach") or {}).items():
        lst = next((x for x in form.lists if x.id == list_id), None)
        if lst is None:
            problems.append(f"danh_sach: danh sách «{list_id}» không có trong biểu mẫu")
            continue
        cols = {c.code for c in lst.columns}
        for i, row in enumerate(rows or [], start=1):
            problems += [f"danh_sach › {list_id} › dòng {i}: cột «{k}» không có" for k in row if k not in cols]
    if problems:
        raise BaocaoError("tệp dữ liệu có lỗi:\n" + "\n".join(f"- {p}" for p in problems), path=str(path))
    return _nfc(data)
