"""baocao: commune reform reports from a standard Excel intake workbook to city synthesis and Word.

toolkit/ is one sub-package per stage, each importing only the stages before it (tests/test_layers.py):

    base (errors, atomic, vnformat, progress, argparse_vi)
      < definition < intake < check < reports < city < excel < server
      < front ends (cli, check_run, demo, regenerate, synthetic, xl)

A stage's public names are those its __init__ exports; other stages import them from the package.
"""
from __future__ import annotations

import importlib
from importlib import resources
from pathlib import Path
from typing import Any, Callable

__version__ = "0.1.0"


def exports(package: str, table: dict[str, tuple[str, ...]]) -> tuple[Callable[[str], Any], list[str]]:
    """A stage's public names (`module: names`), each loaded from its module on first use (PEP 562), so that
    naming a stage does not load the heavy libraries of its other verbs (docxtpl, XlsxWriter, xlwings,
    FastAPI). A name equal to its module's name exports the module itself."""
    where = {name: module for module, names in table.items() for name in names}

    def __getattr__(name: str) -> Any:
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = importlib.import_module(f"{package}.{where[name]}")
        return module if name == where[name] else getattr(module, name)

    return __getattr__, sorted(where)


def shipped(folder: str) -> Path:
    """A folder that ships inside the package as `toolkit.<folder>` (templates, macros). From a checkout (a clone,
    a worktree) it is the top-level folder beside toolkit/, so benchmarks and tests run there use the checkout's
    own templates, not those of whichever copy was installed."""
    top = Path(__file__).resolve().parent.parent
    if (top / "pyproject.toml").is_file() and (top / folder).is_dir():
        return top / folder
    return Path(str(resources.files(f"toolkit.{folder}")))
