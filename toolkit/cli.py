"""The `baocao` command: each subcommand parses its arguments, calls the library, prints the result.

Exit codes: 0 success, 1 the data has errors, 2 a file cannot be used (unreadable,
foreign, missing), 3 an unexpected failure (a bug; --chi-tiet or the log shows details).
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path

from toolkit import __version__
from toolkit.argparse_vi import Parser, count, output, seconds, year
from toolkit.errors import BaocaoError, log_failure


def _parser() -> argparse.ArgumentParser:
    common = Parser(add_help=False)
    common.add_argument("--chi-tiet", action="store_true",
                        help="khi có lỗi, in thêm chi tiết kỹ thuật (cho người quản trị)")
    p = Parser(prog="baocao", parents=[common], description="Báo cáo cải cách hành chính "
                                "cấp xã: phiếu Excel, kiểm tra, tổng hợp và báo cáo Word.")
    p.add_argument("--version", action="version", version=f"baocao {__version__}", help="in phiên bản rồi thoát")
    sub = p.add_subparsers(dest="command", metavar="LỆNH", title="lệnh")

    def command(name: str, **kw) -> argparse.ArgumentParser:
        return sub.add_parser(name, parents=[common], **kw)  # --chi-tiet also after the command

    s = command("tao-mau", help="tạo phiếu số liệu Excel (trống hoặc điền từ tệp dữ liệu)")
    output(s, "PHIEU.xlsx", "tệp .xlsx cần tạo", "--out", required=True)
    s.add_argument("--du-lieu", type=Path, metavar="DU_LIEU.yaml", help="tệp dữ liệu YAML để điền vào phiếu")
    s.set_defaults(run=cmd_tao_mau)

    s = command("doc", help="đọc một phiếu đã điền và in số liệu kèm vị trí ô")
    s.add_argument("file", type=Path, metavar="PHIEU", help="phiếu .xlsx/.xlsm cần đọc")
    s.add_argument("--json", action="store_true", help="in dạng JSON")
    s.set_defaults(run=cmd_doc)

    s = command("tao-xlsm", help="tạo các tệp Excel có nút bấm (phiếu số liệu, tổng hợp thành phố)")
    s.add_argument("--thu-muc", type=Path, default=Path("workbooks"), metavar="THU_MUC",
                   help="thư mục ghi tệp .xlsm (mặc định workbooks)")
    s.add_argument("--may-chu", metavar="DIA_CHI", help="địa chỉ máy chủ baocao của thành phố: tạo phiếu cho từng đơn "
                   "vị, nút bấm chạy trên máy chủ (máy của đơn vị chỉ cần Excel)")
    s.add_argument("--khoa", type=Path, metavar="KHOA.csv", help="tệp khóa do «baocao server cap-khoa» ghi ra "
                   "(dùng cùng --may-chu)")
    s.set_defaults(run=cmd_tao_xlsm)

    s = command("server", help="máy chủ của thành phố: nút bấm cho phiếu không cần Python, nhận phiếu, "
                "trang theo dõi (cần cài «baocao[server]»)")
    server = s.add_subparsers(dest="server_command", metavar="VIỆC", required=True)
    s = server.add_parser("chay", parents=[common], help="chạy máy chủ")
    s.add_argument("--kho", required=True, type=_store, metavar="KHO", help="kho của thành phố (phiên bản, khóa): tệp SQLite "
                   "hoặc địa chỉ PostgreSQL postgresql://người_dùng:mật_khẩu@máy/cơ_sở_dữ_liệu")
    s.add_argument("--thu-muc", required=True, type=Path, metavar="THU_MUC", help="thư mục máy chủ lưu phiếu nhận được và báo cáo")
    s.add_argument("--ky", required=True, metavar="KY", help="kỳ báo cáo trang theo dõi hiển thị (6T, Q1... hoặc tên kỳ)")
    s.add_argument("--nam", required=True, type=year, metavar="NAM", help="năm báo cáo")
    s.add_argument("--han", metavar="NGAY", help=HAN_HELP)
    s.add_argument("--dia-chi", default="127.0.0.1", metavar="DIA_CHI",
                   help="địa chỉ lắng nghe (mặc định 127.0.0.1, sau proxy HTTPS)")
    s.add_argument("--cong", type=count, default=8000, metavar="CONG", help="cổng (mặc định 8000)")
    s.add_argument("--dia-chi-cong-khai", metavar="DIA_CHI", help="địa chỉ HTTPS các đơn vị dùng, để tạo liên kết tải về")
    s.add_argument("--so-lan-bam", type=count, default=20, metavar="SO",
                   help="số lần bấm nút tối đa trong một phút của mỗi khóa (mặc định 20)")
    s.add_argument("--thoi-gian-xu-ly", type=seconds, default=25.0, metavar="GIAY",
                   help="thời gian xử lý tối đa một lần bấm; quá thì trả lời «máy chủ đang bận» (mặc định 25)")
    s.add_argument("--cho-tieu-de", type=seconds, default=10.0, metavar="GIAY",
                   help="thời gian tối đa để nhận phần đầu (tiêu đề) của một yêu cầu; máy khách chậm hơn bị ngắt "
                        "kết nối (mặc định 10)")
    s.add_argument("--cho-du-lieu", type=seconds, default=60.0, metavar="GIAY",
                   help="thời gian tối đa để nhận trọn một yêu cầu, kể cả dữ liệu gửi lên (mặc định 60)")
    s.add_argument("--so-ket-noi", type=count, default=200, metavar="SO",
                   help="số kết nối mở cùng lúc tối đa; quá thì trả lời 503 (mặc định 200)")
    s.add_argument("--so-ket-noi-moi-may", type=count, default=50, metavar="SO",
                   help="số kết nối mở cùng lúc tối đa từ một địa chỉ, trừ proxy trên cùng máy (mặc định 50)")
    s.add_argument("--tien-trinh", type=count, default=1, metavar="SO",
                   help="số tiến trình xử lý yêu cầu, nên bằng số lõi CPU của máy (mặc định 1); các giới hạn "
                        "--so-ket-noi và --so-ket-noi-moi-may tính riêng cho từng tiến trình")
    s.set_defaults(run=cmd_server_chay)
    s = server.add_parser("cap-khoa", parents=[common],
                          help="cấp khóa cho đơn vị chưa có khóa (cấp lại chỉ khi ghi --cap-lai hoặc --tat-ca), "
                               "gộp vào tệp CSV")
    s.add_argument("--kho", required=True, type=_store, metavar="KHO", help="kho của thành phố (tệp SQLite hoặc địa "
                   "chỉ postgresql://…)")
    s.add_argument("--don-vi", nargs="+", metavar="MA", help="mã ĐVHC cần cấp (mặc định: mọi đơn vị); đơn vị đã có "
                   "khóa giữ khóa của mình")
    s.add_argument("--cap-lai", nargs="+", metavar="MA", help="cấp lại khóa mới cho các đơn vị này: khóa cũ hết hiệu "
                   "lực (đơn vị làm mất khóa, lộ khóa)")
    s.add_argument("--tat-ca", action="store_true", help="cấp lại khóa mới cho mọi đơn vị (hoặc mọi đơn vị của "
                   "--don-vi): mọi khóa cũ hết hiệu lực")
    output(s, "KHOA.csv", "tệp CSV (UTF-8, mở được bằng Excel) ghi mã, tên đơn vị và khóa; đã có thì khóa mới được "
           "gộp vào: dòng của đơn vị được cấp thay dòng cũ, các dòng khác giữ nguyên; chỉ người tạo đọc được",
           required=True)
    s.set_defaults(run=cmd_server_cap_khoa)

    s = command("tong-hop", help="tổng hợp phiếu của các đơn vị trong thư mục thành sổ tổng hợp "
                       "thành phố (mã thoát 1 khi có tệp lỗi hoặc không đọc được)")
    s.add_argument("folder", type=Path, metavar="THU_MUC", help="thư mục chứa phiếu .xlsx/.xlsm (đọc cả thư mục con)")
    s.add_argument("--ky", metavar="KY", help="kỳ báo cáo: mã (6T, Q1...) hoặc tên («6 tháng đầu năm»); mặc định: kỳ của "
                   "phần lớn tệp trong thư mục")
    s.add_argument("--nam", type=year, metavar="NAM", help="năm báo cáo; mặc định: năm của phần lớn tệp trong thư mục")
    output(s, "TONG_HOP.xlsx", "tệp .xlsx tổng hợp cần tạo", "--out", required=True)
    s.add_argument("--han", metavar="NGAY", help=HAN_HELP)
    s.add_argument("--kho", type=_store, metavar="KHO", help="kho lưu lịch sử các bản nộp (tệp SQLite hoặc địa chỉ "
                   "postgresql://…)")
    s.add_argument("--tep-tong-hop", type=Path, metavar="TONG_HOP.xlsm", help=CITY_BOOK_HELP)
    s.add_argument("--tien-trinh", type=count, metavar="SO", help="số tiến trình đọc và kiểm tra phiếu cùng lúc "
                   "(mặc định: dùng mọi lõi CPU của máy, mỗi lõi một tiến trình)")
    s.set_defaults(run=cmd_tong_hop)

    s = command("kiem-tra", help="kiểm tra một hoặc nhiều phiếu, in các lỗi kèm ô Sheet!Ô")
    s.add_argument("files", nargs="+", type=Path, metavar="PHIEU_HOAC_THU_MUC",
                   help="phiếu .xlsx/.xlsm cần kiểm tra, hoặc thư mục: mọi phiếu trong đó (cả thư mục con)")
    s.add_argument("--json", action="store_true", help="in danh sách lỗi dạng JSON")
    output(s, "BAN_SAO.xlsx", "ghi bản sao có tô màu, ghi chú và sheet lỗi (chỉ với một phiếu)", "--ghi-ra")
    s.add_argument("--ky-truoc", type=Path, metavar="PHIEU_KY_TRUOC", help="phiếu kỳ trước, để đối chiếu giữa hai kỳ")
    s.add_argument("--kho", type=_store, metavar="KHO", help="kho của thành phố (tệp SQLite hoặc postgresql://…): đối chiếu kỳ "
                   "trước và so với các kỳ trước của đơn vị (số liệu bất thường)")
    s.set_defaults(run=cmd_kiem_tra)

    s = command("bao-cao", help="lập báo cáo Word (và PDF) từ một phiếu hoặc mọi phiếu trong thư mục")
    s.add_argument("target", type=Path, metavar="PHIEU_HOAC_THU_MUC", help="phiếu .xlsx hoặc thư mục chứa các phiếu")
    s.add_argument("--loai", required=True, metavar="LOAI",
                   help="loại báo cáo: cchc-quy, cchc-6-thang-nam, cchc-cds, so-ket-2-cap, "
                        "chinh-quyen-than-thien, tong-hop (báo cáo của thành phố), don-doc (công văn đôn đốc của "
                        "thành phố)")
    output(s, "KET_QUA", "tệp .docx cần ghi (một phiếu) hoặc thư mục kết quả (thư mục phiếu)", "--out")
    s.add_argument("--pdf", action="store_true",
                   help="xuất thêm PDF bằng LibreOffice (LibreOffice chạy sẵn của máy chủ trên máy này nếu có)")
    s.add_argument("--du-thao", action="store_true",
                   help="lập bản dự thảo dù phiếu còn lỗi: ghi «DỰ THẢO» ở đầu trang, các lỗi in ở phụ lục")
    s.add_argument("--ky", metavar="KY", help="với tong-hop, don-doc: kỳ báo cáo (mặc định: kỳ của phần lớn các phiếu, "
                   "có báo ra)")
    s.add_argument("--nam", type=year, metavar="NAM", help="với tong-hop, don-doc: năm báo cáo")
    s.add_argument("--kho", type=_store, metavar="KHO", help="với tong-hop, don-doc: kho của thành phố, tệp SQLite hoặc "
                   "postgresql://… (kỳ trước, cộng dồn các quý; với don-doc cả các lần bấm Nộp bị từ chối)")
    s.add_argument("--tep-tong-hop", type=Path, metavar="TONG_HOP.xlsm", help="với tong-hop, don-doc: " + CITY_BOOK_HELP)
    s.add_argument("--han", metavar="NGAY", help="với tong-hop, don-doc: " + HAN_HELP)
    s.add_argument("--han-moi", metavar="NGAY", help="với don-doc: hạn mới dd/mm/yyyy công văn đề nghị các đơn vị hoàn "
                   "thành (mặc định: hôm nay theo lịch của thành phố + số ngày deadline_days trong form.yaml, tức 5 "
                   "ngày); phải sau hôm nay")
    s.set_defaults(run=cmd_bao_cao)

    s = command("phien-ban", help="các phiên bản một đơn vị đã nộp trong kỳ và những gì thay đổi so với phiên bản "
                "trước: ô số liệu (cũ → mới), lỗi và cảnh báo mới xuất hiện hoặc đã hết")
    s.add_argument("--kho", required=True, type=_store, metavar="KHO", help="kho của thành phố (tệp SQLite hoặc địa "
                   "chỉ postgresql://…)")
    s.add_argument("--don-vi", required=True, metavar="MA", help="mã ĐVHC của đơn vị")
    s.add_argument("--ky", metavar="KY", help="kỳ báo cáo (6T, Q1... hoặc tên kỳ); mặc định: kỳ của bản nộp mới nhất "
                   "của đơn vị (dùng cùng --nam)")
    s.add_argument("--nam", type=year, metavar="NAM", help="năm báo cáo (dùng cùng --ky)")
    s.add_argument("--phien-ban", type=count, metavar="SO", help="phiên bản cần xem (mặc định: phiên bản mới nhất)")
    s.set_defaults(run=cmd_phien_ban)

    s = command("demo", help="chạy thử toàn bộ quy trình trên dữ liệu mẫu")
    s.add_argument("out_dir", nargs="?", type=Path, default=Path("baocao_demo"), metavar="THU_MUC",
                   help="thư mục ghi kết quả (mặc định baocao_demo)")
    s.set_defaults(run=cmd_demo)
    return p


# The one deadline, said alike by tong-hop and server chay (form.yaml closing_day and deadline_days; a test holds
# the example to the form).
HAN_HELP = ("hạn nộp dd/mm/yyyy, một hạn chung cho mọi đơn vị, kể cả đơn vị chưa nộp (mặc định: ngày chốt số liệu "
            "của kỳ + số ngày deadline_days trong form.yaml; với biểu mẫu kèm theo là ngày 14 tháng cuối kỳ + 5 ngày, "
            "ví dụ 6 tháng đầu năm 2026 hạn 19/06/2026)")
CITY_BOOK_HELP = ("tệp tong_hop.xlsm của Sở Nội vụ: các số liệu bất thường đã chấp nhận (sheet «Bất thường đã chấp "
                  "nhận») và các đoạn Đánh giá chung, Nhiệm vụ trọng tâm kỳ tới, Kiến nghị, đề xuất (sheet «Nội "
                  "dung»)")


def cmd_tao_mau(args) -> int:
    from toolkit.definition import load_form
    from toolkit.excel import build
    from toolkit.intake import load_data

    form = load_form()
    data = load_data(args.du_lieu, form) if args.du_lieu else None
    out = build(form, args.ra, data)
    print(f"Đã tạo phiếu số liệu: {out}")
    return 0


def cmd_doc(args) -> int:
    from toolkit.check import print_submission, submission_json
    from toolkit.intake import read_submission

    sub = read_submission(args.file)
    if args.json:
        print(json.dumps(submission_json(sub), ensure_ascii=False, indent=2))
    else:
        print_submission(sub)
    return 0


def cmd_tao_xlsm(args) -> int:
    from toolkit.excel import build_all, build_units

    if bool(args.may_chu) != bool(args.khoa):
        raise BaocaoError("--may-chu và --khoa phải dùng cùng nhau (khóa cấp bằng «baocao server cap-khoa»)")
    if args.may_chu:
        from toolkit.server import read_csv

        outs = build_units(args.may_chu, read_csv(args.khoa), args.khoa, args.thu_muc)
    else:
        outs = build_all(args.thu_muc)
    for out in outs:
        print(f"Đã tạo tệp có nút bấm: {out}")
    return 0


def _store(text: str):
    """--kho: a SQLite file's path, or a PostgreSQL address kept as written."""
    from toolkit.city import store_location

    return store_location(text)


def _date(text: str | None, what: str = "hạn nộp"):
    from datetime import datetime

    if not text:
        return None
    try:
        return datetime.strptime(text, "%d/%m/%Y").date()
    except ValueError:
        raise BaocaoError(f"{what} «{text}» không đúng dạng ngày/tháng/năm (ví dụ 19/06/2026)") from None


def cmd_server_chay(args) -> int:
    try:
        from toolkit.server import Settings, serve
    except ImportError as exc:
        raise BaocaoError(f"chưa cài phần máy chủ (thiếu {exc.name}): pip install \"baocao[server]\"") from None
    from toolkit.definition import load_form

    load_form().period(args.ky)  # a wrong period is refused before the server starts
    serve(Settings(args.kho, args.thu_muc, args.ky, args.nam, _date(args.han), public_url=args.dia_chi_cong_khai,
                   per_minute=args.so_lan_bam, timeout=args.thoi_gian_xu_ly, head_timeout=args.cho_tieu_de,
                   body_timeout=max(args.cho_du_lieu, args.cho_tieu_de), max_connections=args.so_ket_noi,
                   per_client=args.so_ket_noi_moi_may),
          host=args.dia_chi, port=args.cong, workers=args.tien_trinh)
    return 0


def cmd_server_cap_khoa(args) -> int:
    from toolkit.server import issue_to_csv

    done = issue_to_csv(args.kho, args.ra, args.don_vi, args.cap_lai, everyone=args.tat_ca)
    print(f"Đã cấp {done.issued} khóa" + (f", trong đó {done.revoked} khóa cũ bị thu hồi (hết hiệu lực)"
                                          if done.revoked else "") +
          (f"; {len(done.skipped)} đơn vị đã có khóa, giữ nguyên" if done.skipped else "") + ".")
    print(f"Đã ghi {args.ra}: {done.issued} dòng mới" + (f", giữ nguyên {done.kept} dòng đã có" if done.kept else "") +
          f". Tạo phiếu cho các đơn vị: baocao tao-xlsm --may-chu DIA_CHI --khoa {args.ra} --thu-muc THU_MUC; "
          "giữ kín tệp khóa.")
    return 0


def cmd_tong_hop(args) -> int:
    """Exit 0 when every unit's file was taken and none has errors; 1 when a file has errors, could not be
    read or was left out (the city workbook is written either way); 2 when there is nothing to consolidate
    (no workbook, none of the period) or an option is unusable: then no city workbook is written."""
    from toolkit import vnformat
    from toolkit.city import save_consolidation, write_city_workbook

    from toolkit.city import read_city_book
    from toolkit.definition import load_form

    book = read_city_book(args.tep_tong_hop, load_form())
    res = _consolidate(args.folder, args.ky, args.nam, deadline=_date(args.han), store=args.kho,
                       accepted=book.accepted, workers=args.tien_trinh)
    period = vnformat.period_year(res.period, res.year)
    if res.inferred:
        print(res.inferred_note)
    res.require_usable()
    stored, unstored = save_consolidation(args.kho, res) if args.kho else (0, [])
    res.excluded += [(f, f"Không lưu được vào kho dữ liệu (vẫn có trong tổng hợp): {why}") for f, why in unstored]
    write_city_workbook(res, args.ra)
    errors = sum(r.errors for r in res.rows)
    left_out = res.left_out
    print(f"Tổng hợp {period}: {res.received}/{res.expected} đơn vị đã nộp, {res.valid} hợp lệ, {res.late} nộp "
          f"muộn, {res.expected - res.received} chưa nộp; {errors} lỗi; {len(left_out)} tệp không đưa vào tổng hợp.")
    for path, why in left_out[:10]:
        print(f"  {Path(path).name}: {why}")
    if len(left_out) > 10:
        print(f"  … và {len(left_out) - 10} tệp khác (xem sheet Lỗi của sổ tổng hợp)")
    if args.kho:
        from toolkit.city import shown

        print(f"Kho dữ liệu {shown(args.kho)}: thêm {stored} bản nộp mới" +
              (f"; {len(unstored)} tệp không lưu được." if unstored else "."))
    print(f"Đã ghi sổ tổng hợp: {args.ra}")
    return 1 if res.has_errors or left_out or unstored else 0


def _consolidate(folder: Path, ky, nam, **options):
    """`consolidate()` with a progress bar on a terminal when the folder holds many files."""
    from toolkit.city import consolidate, list_workbooks
    from toolkit.progress import file_progress

    total = len(list_workbooks(folder)) if folder.is_dir() else 0
    with file_progress(total, "Đọc và kiểm tra phiếu") as step:
        return consolidate(folder, ky, nam, progress=step, **options)


def cmd_kiem_tra(args) -> int:
    from toolkit.check_run import run_check

    return run_check(args.files, as_json=args.json, annotate=args.ra, previous=args.ky_truoc,
                     details=args.chi_tiet, store=args.kho)


def cmd_bao_cao(args) -> int:
    from toolkit.reports import render_path

    if args.loai == "tong-hop":
        return _city_report(args)
    if args.loai == "don-doc":
        return _dispatch(args)
    if args.han_moi:
        raise BaocaoError("--han-moi chỉ dùng với --loai don-doc")
    if args.ky or args.nam or args.kho or args.tep_tong_hop or args.han:
        raise BaocaoError("--ky, --nam, --kho, --tep-tong-hop và --han chỉ dùng với --loai tong-hop, don-doc (kỳ của "
                          "phiếu ghi trong phiếu)")
    aside: list[tuple] = []
    for path in render_path(args.target, args.loai, args.ra, pdf=args.pdf, draft=args.du_thao,
                            aside=lambda sub, errors: aside.append((sub, errors))):
        print(f"Đã ghi báo cáo: {path}")
    for sub, errors in aside:
        print(f"{sub.path}: {len(errors)} lỗi nằm ngoài những gì báo cáo này in ra nên không chặn báo cáo "
              "(vẫn phải sửa trước khi nộp):")
        for f in errors:
            print(f"- {f.where}: {f.message}")
    return 0


def _city_report(args) -> int:
    """The city report goes through the same consolidation as `tong-hop`: same units, same period."""
    from toolkit.city import NO_SIGNER_NOTE, read_city_book, render_city_report, require_content
    from toolkit.definition import load_form

    book = read_city_book(args.tep_tong_hop, load_form())
    if not args.du_thao:  # refused before the folder is read, not after
        require_content(book, load_form())
    res = _consolidate(args.target, args.ky, args.nam, deadline=_date(args.han), store=args.kho,
                       accepted=book.accepted)
    if res.inferred:
        print(res.inferred_note)
    if not res.form.city_report.get("signer"):
        print(NO_SIGNER_NOTE)
    code = res.form.period(res.period).code
    out = args.ra or args.target / f"bao_cao_tong_hop_{code}_{res.year}.docx"
    for path in render_city_report(res, out, pdf=args.pdf, book=book, draft=args.du_thao):
        print(f"Đã ghi báo cáo: {path} ({res.received}/{res.expected} đơn vị đã nộp)")
    return 0


def _dispatch(args) -> int:
    """The reminder dispatch: the city report's consolidation, plus the store's refused Nộp attempts when --kho
    is given. Nobody to chase: refused with exit 2 and no file written."""
    from toolkit.city import Store, read_city_book, render_dispatch, shown, store_exists
    from toolkit.definition import load_form

    if args.du_thao:
        raise BaocaoError("--du-thao không dùng với --loai don-doc (công văn không có bản dự thảo)")
    due = _date(args.han_moi, "hạn mới")
    book = read_city_book(args.tep_tong_hop, load_form())
    res = _consolidate(args.target, args.ky, args.nam, deadline=_date(args.han), store=args.kho,
                       accepted=book.accepted)
    if res.inferred:
        print(res.inferred_note)
    tried = {}
    if args.kho:
        if not store_exists(args.kho):
            raise BaocaoError("không có kho dữ liệu này", path=shown(args.kho))
        with Store(args.kho, res.form, readonly=True) as db:
            tried = db.attempts(res.period, res.year)
    code = res.form.period(res.period).code
    out = args.ra or args.target / f"cong_van_don_doc_{code}_{res.year}.docx"
    for path in render_dispatch(res, out, due, tried, pdf=args.pdf):
        print(f"Đã ghi công văn đôn đốc: {path}")
    return 0


def cmd_phien_ban(args) -> int:
    """Read-only: lists the unit's versions of the period, then what the chosen one changed."""
    from toolkit.city import shown, store_exists, versions
    from toolkit.definition import load_form
    from toolkit.vnformat import period_year

    form = load_form()
    if (args.ky is None) != (args.nam is None):
        raise BaocaoError("--ky và --nam phải dùng cùng nhau (bỏ cả hai: kỳ của bản nộp mới nhất của đơn vị)")
    unit = form.unit_by_code(args.don_vi.strip())
    if unit is None:
        raise BaocaoError(f"không có đơn vị mã «{args.don_vi}» trong danh mục đơn vị")
    if args.ky is not None:
        form.period(args.ky)  # an unknown period is said as such, not as "no version"
    if not store_exists(args.kho):
        raise BaocaoError("không có kho dữ liệu này", path=shown(args.kho))
    found = versions.stored_versions(args.kho, form, unit.code, args.ky, args.nam)
    if not found:
        where = f" cho {period_year(form.period(args.ky).label, args.nam)}" if args.ky else ""
        raise BaocaoError(f"{unit.code} {unit.name} chưa có phiên bản nào trong kho{where}", path=shown(args.kho))
    diff = versions.diff(form, found, args.phien_ban or found[-1].version)  # a wrong number, before any output
    print(f"{unit.code} {unit.name}, {period_year(found[0].period, found[0].year)}: {len(found)} phiên bản trong kho")
    for v in found:
        print(versions.version_line(v))
    print()
    for line in versions.text(diff):
        print(line)
    return 0


def cmd_demo(args) -> int:
    from toolkit.demo import run_demo

    return run_demo(args.out_dir)


def _stopped(signum, frame):
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    if threading.current_thread() is threading.main_thread():
        # SIGTERM stops a run as Ctrl-C does: the LibreOffice it started is killed on the way out
        signal.signal(signal.SIGTERM, _stopped)
    try:
        return args.run(args)
    except BaocaoError as exc:
        print(f"Lỗi: {exc}", file=sys.stderr)
        if exc.detail and args.chi_tiet:
            print(f"Chi tiết kỹ thuật: {exc.detail}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:  # output piped into head/less that closed early: not an error
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("Đã dừng theo yêu cầu.", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: say so plainly, the details go to the log (and to --chi-tiet)
        if getattr(args, "kho", None) and _store_failed(exc, args):
            return 2
        if os.environ.get("BAOCAO_DEBUG"):
            raise
        log = log_failure(exc, " ".join(sys.argv))
        print(f"Lỗi: lỗi không mong đợi của phần mềm; chi tiết đã ghi vào {log}. Hãy gửi tệp này cho người quản "
              "trị (chạy lại với --chi-tiet để xem ngay).", file=sys.stderr)
        if args.chi_tiet:
            import traceback

            traceback.print_exception(exc, file=sys.stderr)
        return 3


def _store_failed(exc: Exception, args) -> bool:
    """A store that failed where no reader turned it into a sentence (a worker process, a cursor): said, with
    the store named, as any refusal; False when `exc` is no store failure."""
    from toolkit.city import StoreError, failed, store_failure

    if not failed(exc):
        return False
    log_failure(exc, " ".join(sys.argv))
    err = StoreError(store_failure(exc, "không đọc ghi được kho dữ liệu (tệp hỏng hoặc mất kết nối)"), args.kho,
                     str(exc))
    print(f"Lỗi: {err}", file=sys.stderr)
    if args.chi_tiet:
        print(f"Chi tiết kỹ thuật: {err.detail}", file=sys.stderr)
    return True


if __name__ == "__main__":
    sys.exit(main())
