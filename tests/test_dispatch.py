"""The city's công văn đôn đốc (`bao-cao --loai don-doc`): real folders of 114 unit workbooks, a real store with a
refused Nộp, the command run as a user runs it, the .docx read back, the PDF drawn by LibreOffice."""
from __future__ import annotations

import shutil
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import docx
import pytest
from conftest import run_cli, start, stop

from toolkit import synthetic as S
from toolkit.city import Store
from toolkit.city.consolidation import period_deadline
from toolkit.city.dispatch import NOBODY
from toolkit.vnformat import city_today, fmt_date

YEAR = 2026
PNG = Path("/tmp/cong_van_don_doc_trang_1.png")  # the dispatch's first page, kept for a person to look at


def _lines(path: Path) -> tuple[list[str], list[str]]:
    """(body paragraphs, Nơi nhận lines) of a written dispatch."""
    d = docx.Document(str(path))
    body = [p.text for p in d.paragraphs if p.text.strip()]
    left = d.tables[-1].rows[0].cells[0]
    return body, [p.text for p in left.paragraphs if p.text.strip()]


@pytest.fixture(scope="module")
def chased(tmp_path_factory, form):
    """114 units of 6 tháng: 2 not in, 1 not in whose Nộp was refused with 4 errors, 2 sent with errors, 1 with a
    revenue 8 times its plan; the rest clean."""
    root = tmp_path_factory.mktemp("don_doc")
    codes = [u.code for u in form.units]
    S.generate(root / "phieu", "6T", YEAR, missing=set(codes[:3]), broken=set(codes[3:5]), form=form,
               anomalies={codes[30]: "thu-ngan-sach"})
    with Store(root / "kho.sqlite", form) as db:
        db.attempt(codes[2], "6 tháng đầu năm", YEAR, 4, 0)
    units = {c: form.unit_by_code(c).name for c in codes[:5] + [codes[30]]}
    return {"root": root, "codes": codes, "names": units}


def test_dispatch_names_each_unit_to_chase_with_why_and_the_dates(chased, form):
    root, codes, names = chased["root"], chased["codes"], chased["names"]
    new = city_today() + timedelta(days=10)
    out = root / "cv.docx"
    done = run_cli("bao-cao", str(root / "phieu"), "--loai", "don-doc", "--ky", "6T", "--nam", str(YEAR), "--kho",
                   str(root / "kho.sqlite"), "--han-moi", f"{new:%d/%m/%Y}", "--ra", str(out))
    assert done.returncode == 0, done.stderr
    body, to = _lines(out)
    text = "\n".join(body)
    assert "V/v đôn đốc gửi báo cáo cải cách hành chính 6 tháng đầu năm 2026" in "\n".join(
        p.text for p in docx.Document(str(out)).tables[0].rows[0].cells[0].paragraphs)
    due = period_deadline(form, "6 tháng đầu năm", YEAR)
    assert f"là ngày {fmt_date(due)}" in text and f"trước ngày {fmt_date(new)}" in text
    assert "111/114 đơn vị đã gửi phiếu; còn 06 đơn vị" in text
    missing = next(p for p in body if p.startswith("1. Chưa gửi phiếu số liệu (02 đơn vị)"))
    assert names[codes[0]] in missing and names[codes[1]] in missing and names[codes[2]] not in missing
    refused = next(p for p in body if p.startswith("2. Đã gửi nhưng phiếu còn lỗi, chưa được tiếp nhận (03 đơn vị)"))
    assert f"{names[codes[2]]} (bấm Nộp ngày" in refused and "phiếu còn 04 lỗi" in refused
    for c in codes[3:5]:
        assert f"{names[c]} (phiếu còn" in refused
    odd = next(p for p in body if p.startswith("3. Có số liệu bất thường cần giải trình (01 số liệu)"))
    assert names[codes[30]] in odd and "thu ngân sách" in odd
    # Kính gửi and Nơi nhận: exactly the units chased, then the archive
    assert [ln.removeprefix("- UBND ").rstrip(";.") for ln in to[1:-1]] == \
        [n[0].lower() + n[1:] for n in (names[c] for c in codes[:2] + [codes[2]] + codes[3:5] + [codes[30]])]
    assert to[0] == "Nơi nhận:" and to[-1] == "- Lưu: VT, CCHC."
    assert "Kính gửi:" in body and f"- Ủy ban nhân dân {names[codes[30]][0].lower()}{names[codes[30]][1:]}." in body


def test_dispatch_first_page_as_drawn_by_libreoffice(chased, tmp_path):
    root = chased["root"]
    if not shutil.which("pdftoppm"):
        pytest.skip("pdftoppm (poppler-utils) not installed")
    done = run_cli("bao-cao", str(root / "phieu"), "--loai", "don-doc", "--ky", "6T", "--nam", str(YEAR),
                   "--ra", str(tmp_path / "cv.docx"), "--pdf")
    assert done.returncode == 0, done.stderr
    pdf = tmp_path / "cv.pdf"
    text = subprocess.run(["pdftotext", "-layout", "-f", "1", "-l", "1", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    for piece in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Số:", "/SNV-CCHC", "V/v đôn đốc", "Kính gửi:",
                  "Nơi nhận:", "KT. GIÁM ĐỐC"):
        assert piece in text, piece
    subprocess.run(["pdftoppm", "-r", "80", "-png", "-f", "1", "-l", "1", "-singlefile", str(pdf),
                    str(PNG.with_suffix(""))], check=True)
    assert PNG.stat().st_size > 10_000


def test_a_new_date_not_after_today_or_unreadable_is_refused(chased):
    root = chased["root"]
    for given, said in ((f"{city_today():%d/%m/%Y}", "phải sau hôm nay"), ("31/02/2026", "không đúng dạng")):
        done = run_cli("bao-cao", str(root / "phieu"), "--loai", "don-doc", "--ky", "6T", "--nam", str(YEAR),
                       "--han-moi", given, "--ra", str(root / "khong.docx"))
        assert done.returncode == 2 and said in done.stderr and "Traceback" not in done.stderr, done.stderr
        assert not (root / "khong.docx").exists()


def test_nobody_to_chase_is_said_and_nothing_written(tmp_path, form):
    S.generate(tmp_path / "phieu", "6T", YEAR, form=form)
    done = run_cli("bao-cao", str(tmp_path / "phieu"), "--loai", "don-doc", "--ky", "6T", "--nam", str(YEAR),
                   "--ra", str(tmp_path / "cv.docx"))
    assert done.returncode == 2 and NOBODY in done.stderr, done.stderr
    assert not (tmp_path / "cv.docx").exists()


def test_new_date_only_with_the_dispatch(chased, tmp_path):
    done = run_cli("bao-cao", str(chased["root"] / "phieu"), "--loai", "cchc-quy", "--han-moi", "20/12/2026",
                   "--ra", str(tmp_path))
    assert done.returncode == 2 and "--han-moi chỉ dùng với --loai don-doc" in done.stderr


# From the city's page: `baocao server chay` on 127.0.0.1, the page's form posted -------------------------------


def _post(url: str, fields: dict[str, str]) -> tuple[int, Any, bytes]:
    """POST the page's dispatch form as a browser does (urlencoded); (status, headers, body)."""
    import urllib.error
    import urllib.parse
    import urllib.request

    req = urllib.request.Request(url + "/cong-van-don-doc", data=urllib.parse.urlencode(fields).encode(),
                                 method="POST", headers={"Accept": "text/html"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


@pytest.fixture(scope="module")
def served(chased):
    """The chased folder stored by `tong-hop --kho`, then the server on that store (the refused Nộp already in it)."""
    pytest.importorskip("fastapi")
    pytest.importorskip("python_multipart")
    root = chased["root"]
    done = run_cli("tong-hop", str(root / "phieu"), "--ky", "6T", "--nam", str(YEAR), "--kho",
                   str(root / "kho.sqlite"), "--ra", str(root / "tong_hop.xlsx"))
    assert "thêm 111 bản nộp mới" in done.stdout, done.stdout + done.stderr
    proc, url = start(root)
    try:
        yield url
    finally:
        stop(proc)


def test_the_page_posts_the_new_date_and_downloads_the_dispatch(served, chased, tmp_path):
    codes, names = chased["codes"], chased["names"]
    new = city_today() + timedelta(days=7)
    status, headers, body = _post(served, {"han_moi": new.isoformat()})  # what a browser's date field sends
    assert status == 200, body.decode(errors="replace")[:500]
    assert headers["Content-Disposition"] == 'attachment; filename="cong_van_don_doc_6T_2026.docx"'
    out = tmp_path / "cv.docx"
    out.write_bytes(body)
    lines, to = _lines(out)
    text = "\n".join(lines)
    assert f"trước ngày {fmt_date(new)}" in text and "111/114 đơn vị đã gửi phiếu; còn 06 đơn vị" in text
    refused = next(p for p in lines if p.startswith("2. Đã gửi nhưng phiếu còn lỗi"))
    assert f"{names[codes[2]]} (bấm Nộp ngày" in refused and "phiếu còn 04 lỗi" in refused  # from the store
    # the same units as the command's, in the same order: the page and `bao-cao --loai don-doc` agree
    assert [ln.removeprefix("- UBND ").rstrip(";.") for ln in to[1:-1]] == \
        [n[0].lower() + n[1:] for n in (names[c] for c in codes[:5] + [codes[30]])]
    # typed by hand where a browser has no date field; empty: today + the form's deadline days
    status, _, body = _post(served, {"han_moi": f"{new:%d/%m/%Y}"})
    assert status == 200 and body[:2] == b"PK"


def test_the_page_refuses_a_wrong_new_date_in_vietnamese(served, tmp_path):
    for given, status, said in (("31/02/2026", 400, "không đúng dạng ngày/tháng/năm"),
                                (city_today().isoformat(), 409, "phải sau hôm nay")):
        got, headers, body = _post(served, {"han_moi": given})
        page = body.decode()
        assert got == status and said in page and "Chưa lập được công văn đôn đốc" in page, page
        assert headers["Content-Type"].startswith("text/html") and "Traceback" not in page
