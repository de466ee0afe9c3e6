import re

from conftest import ROOT, run_cli

from toolkit.cli import _parser
from toolkit.intake.reader import read_submission


def _commands():
    sub = next(a for a in _parser()._actions if a.dest == "command")
    return list(sub.choices)


def test_every_command_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for command in _commands():
        assert f"`baocao {command}" in readme, f"baocao {command} is missing from README.md"


def test_readme_quick_start_is_two_lines_with_demo():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## Bắt đầu nhanh\s+```bash\n(.*?)```", readme, re.S).group(1).strip().splitlines()
    assert len(block) == 2 and block[0].endswith("baocao demo") and "pytest" in block[1]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert block[1] in ci  # CI runs exactly the README's test line


def test_tao_mau_then_doc(tmp_path):
    out = tmp_path / "thư mục có dấu" / "phiếu.xlsx"
    result = run_cli("tao-mau", "--du-lieu", str(ROOT / "toolkit" / "samples" / "nghi_duong_6t_2026.yaml"),
                     "--out", str(out))
    assert result.returncode == 0 and "Đã tạo phiếu số liệu" in result.stdout
    assert read_submission(out).get("HS_TIEP_NHAN") == 5892
    shown = run_cli("doc", str(out), "--json")
    assert shown.returncode == 0 and '"HS_TIEP_NHAN"' in shown.stdout and "Số liệu!E" in shown.stdout


def test_bad_data_file_is_refused_in_vietnamese(tmp_path):
    bad = tmp_path / "du_lieu.yaml"
    bad.write_text("so_lieu:\n  HS_KHONG_CO: 5\n", encoding="utf-8")
    result = run_cli("tao-mau", "--du-lieu", str(bad), "--out", str(tmp_path / "x.xlsx"))
    assert result.returncode == 2 and "HS_KHONG_CO" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "x.xlsx").exists()


def test_demo_runs_end_to_end(tmp_path):
    result = run_cli("demo", str(tmp_path / "demo"))
    assert result.returncode == 0, result.stderr
    assert "Xong." in result.stdout and "Traceback" not in result.stderr
    assert (tmp_path / "demo" / "mau_phieu_so_lieu.xlsx").exists()
    assert list((tmp_path / "demo").rglob("*.docx")) and list((tmp_path / "demo").glob("tong_hop*.xlsx"))


def test_argparse_speaks_vietnamese():
    english = ("usage", "error:", "required", "options", "show this help", "positional arguments", "invalid",
               "argument", "show program")
    for argv, code in ((["tong-hop"], 2), (["kiem-tra", "--bogus", "x.xlsx"], 2), (["khong-co-lenh"], 2),
                       (["tong-hop", "thu_muc", "--nam", "hai nghìn"], 2), (["-h"], 0), (["kiem-tra", "-h"], 0)):
        result = run_cli(*argv)
        text = result.stdout + result.stderr
        assert result.returncode == code, (argv, text)
        assert "Cách dùng: baocao" in text and not [w for w in english if w in text], (argv, text)
    missing = run_cli("tong-hop").stderr
    assert "Lỗi: thiếu tham số bắt buộc: THU_MUC, --ra" in missing and "Xem hướng dẫn: baocao tong-hop -h" in missing
    assert "«hai nghìn» không phải năm" in run_cli("tong-hop", "x", "--nam", "hai nghìn").stderr


def _subcommands(parser=None, prefix=()):
    """(words, parser) of every command and sub-command: ("tong-hop",), ("server", "cap-khoa")..."""
    parser = parser or _parser()
    for action in parser._actions:
        if action.dest in ("command", "server_command"):
            for name, sub in action.choices.items():
                yield (*prefix, name), sub
                yield from _subcommands(sub, (*prefix, name))


def test_the_output_option_is_ra_everywhere_and_old_names_still_work(tmp_path):
    english = re.compile(r"\b(FILE|OUT|FOLDER|PATH|OUTPUT|URL)\b")
    writers = []
    for words, sub in _subcommands():
        text = sub.format_help()
        assert not english.search(text), (words, text)
        assert "--out" not in text and "--ghi-ra" not in text, words  # old names: accepted, never shown
        if "--ra" in sub._option_string_actions:
            writers.append(words)
    assert sorted(writers) == [("bao-cao",), ("kiem-tra",), ("server", "cap-khoa"), ("tao-mau",), ("tong-hop",)]
    old = run_cli("tao-mau", "--out", str(tmp_path / "cu.xlsx"))
    new = run_cli("tao-mau", "--ra", str(tmp_path / "moi.xlsx"))
    assert old.returncode == new.returncode == 0 and (tmp_path / "cu.xlsx").exists() and (tmp_path / "moi.xlsx").exists()
    seed = ROOT / "workbooks" / "nghi_duong_6t_2026.xlsx"
    annotated = run_cli("kiem-tra", str(seed), "--ghi-ra", str(tmp_path / "ban_sao.xlsx"))
    assert annotated.returncode in (0, 1) and (tmp_path / "ban_sao.xlsx").exists(), annotated.stderr


def test_a_mistyped_command_is_answered_with_the_closest_one():
    for argv, typed, close in ((["kiem-ta", "x.xlsx"], "kiem-ta", "kiem-tra"), (["tonghop"], "tonghop", "tong-hop"),
                               (["server", "cap-khao"], "cap-khao", "cap-khoa"), (["bao_cao"], "bao_cao", "bao-cao")):
        done = run_cli(*argv)
        assert done.returncode == 2 and f"Lỗi: không có lệnh «{typed}»" in done.stderr, done.stderr
        assert f"Có phải ý bạn là «{close}»?" in done.stderr
    far = run_cli("xyz")
    assert "Có phải" not in far.stderr and "Các lệnh: tao-mau" in far.stderr


def test_kiem_tra_refuses_a_missing_file_and_reads_a_folder(tmp_path):
    missing = run_cli("kiem-tra", str(tmp_path / "phieu_go_nham.xlsx"))
    assert missing.returncode == 2 and "phieu_go_nham.xlsx: không có tệp hay thư mục này" in missing.stderr
    assert "0 lỗi" not in missing.stdout + missing.stderr
    empty = run_cli("kiem-tra", str(tmp_path))
    assert empty.returncode == 2 and "thư mục không có phiếu .xlsx/.xlsm nào" in empty.stderr
    folder = tmp_path / "phieu"
    (folder / "con").mkdir(parents=True)
    for name, to in (("nghi_duong_6t_2026.xlsx", folder), ("nguyen_luong_bang_q1_2026.xlsx", folder / "con")):
        (to / name).write_bytes((ROOT / "workbooks" / name).read_bytes())
    (folder / "~$nghi_duong_6t_2026.xlsx").write_bytes(b"lock")  # Excel's lock file is no workbook
    each = [run_cli("kiem-tra", str(p), "--json") for p in sorted(folder.rglob("n*.xlsx"))]
    together = run_cli("kiem-tra", str(folder), "--json")
    assert together.returncode == max(r.returncode for r in each)
    import json
    assert json.loads(together.stdout) == [json.loads(r.stdout)[0] for r in sorted(
        each, key=lambda r: json.loads(r.stdout)[0]["file"])]
