"""The finding-code catalogue: one source, shown in README, every entry used, no clash with rule ids."""
import re

from conftest import ROOT

from toolkit.definition.catalogue import CATALOGUE, markdown_table
from toolkit.definition.rules import load_rules


def test_readme_shows_the_catalogue_table():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert markdown_table() in readme, "README.md: thay bảng mã lỗi bằng kết quả của `python -m toolkit.definition.catalogue`"


def test_every_code_is_raised_somewhere_and_none_clashes_with_a_rule_id(form):
    sources = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "toolkit").rglob("*.py")
                        if p.name != "catalogue.py")
    unused = [c for c in CATALOGUE if f'"{c}"' not in sources]
    assert not unused, f"catalogue codes never raised: {unused}"
    assert not {r.id for r in load_rules(form)} & set(CATALOGUE)


def test_entries_are_vietnamese_and_templates_well_formed():
    for c in CATALOGUE.values():
        assert c.severity in ("error", "warning") and re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)+", c.code)
        assert re.search(r"[àáảãạăâđêôơưếềểễệốồổỗộớờởỡợứừửữựíìỉĩịýỳỷỹỵéèẻẽẹóòỏõọúùủũụ]", c.title + c.action,
                         re.I), c.code
        fields = re.findall(r"\{(\w+)\}", c.template)
        assert c.message(**{f: "x" for f in fields})  # every placeholder is a plain name
