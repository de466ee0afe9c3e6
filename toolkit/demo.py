"""`baocao demo`: the main job on the bundled sample data, start to finish."""
from __future__ import annotations

from importlib import resources
from pathlib import Path

from rich.console import Console

from toolkit.datafile import load_data
from toolkit.form import load_form
from toolkit.reader import read_submission
from toolkit.workbook import build

TEMPLATE_NAME = "mau_phieu_so_lieu.xlsx"


def sample_files() -> list[Path]:
    """The bundled sample data files (one per unit and period)."""
    folder = Path(str(resources.files("toolkit") / "samples"))
    return sorted(folder.glob("*.yaml"))


def run_demo(out_dir: Path) -> int:
    console = Console()
    form = load_form()
    out_dir = Path(out_dir)
    template = build(form, out_dir / TEMPLATE_NAME)
    console.print(f"Phiếu trống: {template}")
    filled = []
    for data_file in sample_files():
        path = build(form, out_dir / "phieu" / f"{data_file.stem}.xlsx", load_data(data_file, form))
        sub = read_submission(path)
        values = sum(v.value is not None for v in sub.values.values())
        docs = len(sub.lists.get("van_ban", []))
        console.print(f"Phiếu mẫu: {path} — {sub.unit_name}, {sub.period} {sub.year}: "
                      f"{values} chỉ tiêu, {docs} văn bản đọc lại từ tệp")
        filled.append(path)
    console.print(f"[bold green]Xong.[/bold green] Kết quả nằm trong thư mục {out_dir.resolve()}")
    return 0
