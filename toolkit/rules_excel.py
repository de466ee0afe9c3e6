"""The Kiểm tra sheet: one row per rule with a live Excel verdict."""
from __future__ import annotations

from toolkit import layout as L


def write_check_sheet(wb, ws, form, fmt) -> None:
    ws.write_string(0, 0, "KIỂM TRA SỐ LIỆU", fmt.title)
    ws.write_string(1, 0, "Kết quả đối chiếu tự động, cập nhật ngay khi sửa số liệu", fmt.subtitle)
    for c, (name, width) in enumerate(zip(("Mã quy tắc", "Nội dung kiểm tra", "Kết quả", "Thông báo"),
                                          (22, 60, 12, 70))):
        ws.write_string(L.HEADER_ROW, c, name, fmt.head)
        ws.set_column(c, c, width)
