"""`baocao demo`: the main job on the bundled sample data, start to finish."""
from __future__ import annotations

from importlib import resources
from pathlib import Path

from rich.console import Console

from toolkit.check import check_file
from toolkit.definition import load_form
from toolkit.excel import build
from toolkit.intake import Submission, load_data

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
        report = check_file(path, form)
        sub = report.submission
        values = sum(v.value is not None for v in sub.values.values())
        docs = len(sub.lists.get("van_ban", []))
        console.print(f"Phiếu mẫu: {path} — {sub.unit_name}, {sub.period} {sub.year}: "
                      f"{values} chỉ tiêu, {docs} văn bản đọc lại từ tệp")
        console.print(f"  Kiểm tra: {len(report.errors)} lỗi, {len(report.warnings)} cảnh báo", highlight=False)
        for f in report.findings:
            console.print(f"    [{'red' if f in report.errors else 'yellow'}]{f.where}[/] {f.message}",
                          highlight=False)
        filled.append(sub)
    city_demo(console, out_dir, filled)
    from toolkit.reports import sample_reports  # imported here: docxtpl loads only when reports are made

    console.print("Báo cáo của hai phiếu mẫu là BẢN DỰ THẢO: phiếu mẫu giữ nguyên các lỗi của báo cáo gốc "
                  "(ký hiệu sai loại, ngày sau kỳ báo cáo), các lỗi được in ở phụ lục cuối mỗi báo cáo.")
    for report in sample_reports([sub.path for sub in filled], out_dir / "bao_cao"):
        console.print(f"Báo cáo Word: {report}")
    console.print(f"[bold green]Xong.[/bold green] Kết quả nằm trong thư mục {out_dir.resolve()}")
    return 0


def city_demo(console, out_dir: Path, filled: list[Submission]) -> Path:
    """City workbook "6 tháng đầu năm 2026": the two real samples plus synthetic workbooks for 112 units.

    Nguyễn Lương Bằng's real sample is Quý I only. Calling it a 6-month report would
    be false, so its Quý II is generated (synthetic, labelled) and the store rolls
    Quý I + Quý II up to 6 tháng following each indicator's aggregation type.
    """
    import os
    from datetime import datetime, time, timedelta

    from toolkit.city import consolidate, render_city_report, save_consolidation, write_city_workbook
    from toolkit.synthetic import ANOMALIES, generate
    from toolkit.vnformat import CITY_TZ

    form = load_form()
    subs = {}
    for sub in filled:  # received two days after the data window: the real samples are on time
        subs[sub.unit_code] = sub.path
        stamp = datetime.combine(sub.window[1] + timedelta(days=2), time(9, 0), tzinfo=CITY_TZ).timestamp()
        os.utime(sub.path, (stamp, stamp))
    others = [u for u in form.units if u.code not in subs]
    codes = [u.code for u in others]
    missing, late, broken = set(codes[10:13]), set(codes[20:24]), set(codes[30:33])
    planted = dict(zip(codes[40:40 + len(ANOMALIES)], ANOMALIES))
    synth = out_dir / "phieu" / "mo_phong"
    generate(synth, "6T", 2026, others, missing=missing, late=late, broken=broken, form=form, anomalies=planted)
    nlb = form.unit_by_code("11242")
    if nlb and "11242" in subs:
        generate(synth, "Q2", 2026, [nlb], form=form)
    store = out_dir / "kho_du_lieu.sqlite"
    out = out_dir / "tong_hop_6_thang_2026.xlsx"
    res = consolidate(out_dir / "phieu", "6T", 2026, form=form)
    save_consolidation(store, res)  # the demo's own files: all storable
    write_city_workbook(res, out)
    # a draft: its Đánh giá chung, Nhiệm vụ and Kiến nghị are the city officer's to write (tong_hop.xlsm, «Nội dung»)
    report = render_city_report(res, out_dir / "bao_cao" / "tong_hop_6_thang_2026.docx", draft=True)[0]
    console.print(f"Tổng hợp thành phố: {out} — {res.received}/{res.expected} đơn vị đã nộp, {res.valid} hợp lệ, "
                  f"{res.late} nộp muộn, {res.expected - res.received} chưa nộp")
    console.print(f"Báo cáo tổng hợp (cùng lần tổng hợp, cùng {res.expected} đơn vị): {report} — BẢN DỰ THẢO: các "
                  "mục Đánh giá chung, Nhiệm vụ trọng tâm kỳ tới, Kiến nghị, đề xuất do Sở Nội vụ viết ở sheet «Nội "
                  "dung» của tong_hop.xlsm")
    console.print(f"  {len(others) - len(missing)} phiếu là DỮ LIỆU MÔ PHỎNG (tệp DU_LIEU_MAU_*, thư mục {synth}); "
                  f"cố ý để {len(missing)} đơn vị chưa nộp, {len(late)} nộp muộn, {len(broken)} có số liệu sai")
    names = {u.code: u.name for u in others}
    console.print(f"  Cố ý gài {len(planted)} số liệu bất thường (sheet «Bất thường» phải nêu các đơn vị này): "
                  + "; ".join(f"{names[c]}: {ANOMALIES[k]}" for c, k in planted.items()), highlight=False)
    console.print(f"  Sheet «Bất thường» nêu {len(res.anomalies)} số liệu ở "
                  f"{len({a.unit for a in res.anomalies})} đơn vị; chưa được chấp nhận nên không được cộng, không "
                  "xếp hạng (sheet «Bất thường đã chấp nhận» của tong_hop.xlsm)", highlight=False)
    console.print("  Số liệu thật: Xã Nghi Dương (6 tháng đầu năm 2026). Xã Nguyễn Lương Bằng chỉ có số liệu thật "
                  "Quý I: 6 tháng = Quý I thật + Quý II MÔ PHỎNG, cộng dồn hai quý (kho dữ liệu "
                  f"{store.name} lưu cả hai); thời điểm nhận của hai phiếu thật đặt là 2 ngày sau kỳ số liệu")
    return out
