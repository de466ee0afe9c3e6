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
    assert "thiếu tham số bắt buộc: THU_MUC, --out" in missing and "Xem hướng dẫn: baocao tong-hop -h" in missing
    assert "«hai nghìn» không phải năm" in run_cli("tong-hop", "x", "--nam", "hai nghìn").stderr
