"""The committed Word templates equal the output of tests/template_build.py, part by part.

The .docx files in templates/ are what the package reads and what a city admin edits;
the builder outside the package is how a maintainer changes their layout. This test
keeps the two from drifting: it fails naming the file and the part that differ.
"""
from __future__ import annotations

import zipfile

import template_build
from conftest import ROOT


def test_committed_templates_equal_the_builder_output(tmp_path):
    fresh = template_build.build_all(tmp_path)
    assert {p.name for p in fresh} == {p.name for p in (ROOT / "templates").glob("*.docx")}
    for path in fresh:
        with zipfile.ZipFile(path) as new, zipfile.ZipFile(ROOT / "templates" / path.name) as old:
            assert new.namelist() == old.namelist(), path.name
            changed = [n for n in new.namelist() if new.read(n) != old.read(n)]
            assert not changed, (f"templates/{path.name} differs from tests/template_build.py in {changed}; "
                                 "run python tests/template_build.py")
