"""`baocao server cap-khoa` cannot lose distributed keys: units with a key keep it unless named, the key file is
merged (never shorter), written for Excel on Windows (UTF-8 with BOM) and readable by its owner only; a key file
Excel saved again (BOM, «;» between columns) is still a key file."""
import csv
import stat

from conftest import run_cli

from toolkit.definition import load_form
from toolkit.server import read_csv
from toolkit.server.keys import Keys, read_rows


def _issue(tmp_path, *args):
    return run_cli("server", "cap-khoa", "--kho", str(tmp_path / "kho.sqlite"), *args)


def test_a_second_run_revokes_nothing_and_reissuing_is_by_name(tmp_path):
    keyfile = tmp_path / "khoa.csv"
    first = _issue(tmp_path, "--ra", str(keyfile))
    units = len(load_form().units)
    assert first.returncode == 0 and f"Đã cấp {units} khóa." in first.stdout, first.stderr
    assert keyfile.read_bytes().startswith(b"\xef\xbb\xbfma_dvhc,ten_don_vi,khoa\r\n")
    assert stat.S_IMODE(keyfile.stat().st_mode) == 0o600
    before = keyfile.read_bytes()
    keys = dict(read_csv(keyfile))
    assert len(keys) == units

    again = _issue(tmp_path, "--ra", str(keyfile))
    assert again.returncode == 2 and f"không cấp khóa nào: {units} đơn vị đã có khóa" in again.stderr
    assert "--cap-lai MA… hoặc --tat-ca" in again.stderr
    one = next(iter(keys))
    alone = _issue(tmp_path, "--don-vi", one, "--ra", str(tmp_path / "mot.csv"))
    assert alone.returncode == 2 and f"đơn vị {one} đã có khóa" in alone.stderr
    assert keyfile.read_bytes() == before and not (tmp_path / "mot.csv").exists()

    lost = _issue(tmp_path, "--cap-lai", one, "--ra", str(keyfile))
    assert lost.returncode == 0 and "Đã cấp 1 khóa, trong đó 1 khóa cũ bị thu hồi" in lost.stdout, lost.stderr
    assert f"1 dòng mới, giữ nguyên {units - 1} dòng đã có" in lost.stdout
    now = dict(read_csv(keyfile))
    assert len(now) == units and now[one] != keys[one]
    assert {u: k for u, k in now.items() if u != one} == {u: k for u, k in keys.items() if u != one}
    with Keys(tmp_path / "kho.sqlite") as store:
        assert store.unit_of(keys[one]) is None and store.unit_of(now[one]) == one
        assert all(store.unit_of(k) == u for u, k in now.items())

    everyone = _issue(tmp_path, "--tat-ca", "--ra", str(tmp_path / "moi.csv"))
    assert everyone.returncode == 0 and f"Đã cấp {units} khóa, trong đó {units} khóa cũ bị thu hồi" in everyone.stdout


def test_a_file_that_is_not_a_key_file_is_not_overwritten(tmp_path):
    other = tmp_path / "danh_sach.csv"
    other.write_text("họ tên,điện thoại\nNguyễn Văn A,0912\n", encoding="utf-8")
    done = _issue(tmp_path, "--ra", str(other))
    assert done.returncode == 2 and "không phải tệp khóa" in done.stderr and "không ghi đè" in done.stderr
    assert other.read_text(encoding="utf-8").startswith("họ tên")
    with Keys(tmp_path / "kho.sqlite") as store:
        assert not store.holders()  # nothing issued: no key stopped working for a file never written


def test_a_key_file_saved_again_by_excel_is_read(tmp_path):
    keyfile = tmp_path / "khoa.csv"
    assert _issue(tmp_path, "--don-vi", "10507", "11713", "--ra", str(keyfile)).returncode == 0
    rows = list(csv.reader(keyfile.read_text(encoding="utf-8-sig").splitlines()))
    # Excel in a Vietnamese locale saves «CSV UTF-8» with a BOM, «;» between columns, CRLF, and keeps empty rows
    resaved = tmp_path / "khoa_excel.csv"
    resaved.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(";".join(r) for r in rows + [["", "", ""]]).encode() + b"\r\n")
    assert read_rows(resaved) == read_rows(keyfile) and len(read_rows(keyfile)) == 2
    done = run_cli("tao-xlsm", "--may-chu", "https://baocao.example", "--khoa", str(resaved), "--thu-muc",
                   str(tmp_path / "phieu"))
    assert done.returncode == 0 and "không phải tệp khóa" not in done.stderr, done.stderr
    assert sorted(p.name for p in (tmp_path / "phieu").glob("*.xlsm")) == ["phieu_10507.xlsm", "phieu_11713.xlsm"]
    # and cap-khoa merges into the file as Excel left it
    merged = _issue(tmp_path, "--don-vi", "11713", "10525", "--ra", str(resaved))
    assert merged.returncode == 0 and sorted(read_rows(resaved)) == ["10507", "10525", "11713"], merged.stderr
