"""The layout is the architecture: toolkit/ is one sub-package per stage and imports run one way.

Read from the source with ast (no code of the toolkit is imported), so a broken import is found here too:
- a module imports only its own stage or a stage before it (base < definition < ... < front ends);
- another stage is entered through its package, by a name its __init__ exports, never a module inside it;
- no two stages import each other, directly or round a longer circle;
- the top of toolkit/ holds the base and the front ends only, at most 12 modules.
"""
from __future__ import annotations

import ast
import shutil
from pathlib import Path

TOOLKIT = Path(__file__).resolve().parents[1] / "toolkit"

STAGES = ("base", "definition", "intake", "check", "reports", "city", "excel", "server", "front")
BASE = {"__init__", "errors", "atomic", "vnformat", "progress", "argparse_vi"}
FRONT = {"cli", "check_run", "demo", "regenerate", "synthetic", "xl"}
PACKAGES = set(STAGES) - {"base", "front"}
ORDER = " < ".join(STAGES)


def _module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def stage(module: str) -> str | None:
    """The stage of a dotted module name under toolkit; None for an unknown top-level module."""
    parts = module.split(".")
    if len(parts) == 1 or parts[1] in BASE:
        return "base"
    if parts[1] in PACKAGES:
        return parts[1]
    return "front" if parts[1] in FRONT else None


def exported(root: Path, package: str) -> set[str]:
    """The names a stage's __init__ exports: the table given to toolkit.exports, read without importing."""
    tree = ast.parse((root / package / "__init__.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "exports":
            return {name for names in ast.literal_eval(node.args[1]).values() for name in names}
    return set()


def imports(path: Path):
    """(line, imported module, names) of every import of toolkit code in a file, in functions too."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "toolkit":
                    yield node.lineno, alias.name, None
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "toolkit":
            yield node.lineno, node.module, [a.name for a in node.names]


def violations(root: Path = TOOLKIT) -> list[str]:
    problems: list[str] = []
    edges: dict[tuple[str, str], str] = {}
    top = sorted(p.stem for p in root.glob("*.py"))
    if len(top) > 12:
        problems.append(f"{root.name}/ holds {len(top)} modules at the top ({', '.join(top)}); at most 12")
    for path in sorted(root.rglob("*.py")):
        where = path.relative_to(root.parent)
        source = stage(_module_name(path, root))
        if source is None:
            problems.append(f"{where}: not in any stage; move it into a sub-package, or name it a base module "
                            "or a front end in tests/test_layers.py")
            continue
        for line, module, names in imports(path):
            target = stage(module) if module != "toolkit" or not names else "base"
            if module == "toolkit" and names:  # `from toolkit import errors`: each name is a module or a base name
                targets = [(stage(f"toolkit.{n}") or "base", f"toolkit.{n}") for n in names]
            else:
                targets = [(target, module)]
            for target, name in targets:
                if target is None:
                    problems.append(f"{where}:{line}: imports {name}, which is in no stage")
                    continue
                if STAGES.index(target) > STAGES.index(source):
                    problems.append(f"{where}:{line}: upward import: {source} imports {name} ({target}); a stage "
                                    f"imports only the stages before it: {ORDER}")
                if target != source and target in PACKAGES:
                    edges.setdefault((source, target), f"{where}:{line}")
                    package = f"toolkit.{target}"
                    if name != package or names is None:
                        problems.append(f"{where}:{line}: reaches into {name}, a module private to {target}; "
                                        f"import the names {package}/__init__.py exports (from {package} import …)")
                    else:
                        for n in sorted(set(names) - exported(root, target)):
                            problems.append(f"{where}:{line}: {package} does not export {n}; add it to the "
                                            f"exports of {package}/__init__.py or keep the use inside {target}")
    problems += _cycles(edges)
    return problems


def _cycles(edges: dict[tuple[str, str], str]) -> list[str]:
    """Every circle of imports between stages, each with the line that makes each of its arrows. A circle is
    walked from its earliest stage only, so each is named once."""
    graph: dict[str, set[str]] = {}
    for a, b in edges:
        graph.setdefault(a, set()).add(b)
    found: list[str] = []

    def walk(path: list[str]) -> None:
        for nxt in sorted(graph.get(path[-1], ())):
            if nxt == path[0]:
                arrows = "; ".join(f"{a} -> {b} at {edges[(a, b)]}" for a, b in zip(path, path[1:] + [nxt]))
                found.append(f"import cycle between stages {' -> '.join(path + [nxt])}: {arrows}")
            elif nxt not in path and STAGES.index(nxt) > STAGES.index(path[0]):
                walk(path + [nxt])

    for start in sorted(graph, key=STAGES.index):
        walk([start])
    return found


def test_toolkit_imports_run_one_way():
    assert violations() == []


def test_every_export_is_defined_where_the_table_says():
    """Each exported name is defined (or imported) at the top of its module, or is the module itself."""
    for package in sorted(PACKAGES):
        tree = ast.parse((TOOLKIT / package / "__init__.py").read_text(encoding="utf-8"))
        call = next(n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "exports")
        for module, names in ast.literal_eval(call.args[1]).items():
            body = ast.parse((TOOLKIT / package / f"{module}.py").read_text(encoding="utf-8")).body
            defined = set()
            for node in body:
                if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                    defined.add(node.name)
                elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    defined |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
                elif isinstance(node, ast.ImportFrom):
                    defined |= {a.asname or a.name for a in node.names}
            assert set(names) - {module} <= defined, (package, module, set(names) - defined - {module})


def test_each_stage_says_what_it_takes_and_gives():
    for package in sorted(PACKAGES):
        doc = ast.get_docstring(ast.parse((TOOLKIT / package / "__init__.py").read_text(encoding="utf-8")))
        assert doc and len(doc.split()) >= 20, package


def test_a_planted_upward_import_a_reach_and_a_cycle_are_named(tmp_path):
    scratch = tmp_path / "toolkit"
    shutil.copytree(TOOLKIT, scratch, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
    lists = scratch / "check" / "lists.py"
    lists.write_text(lists.read_text(encoding="utf-8") + "\nfrom toolkit.reports import render_report\n",
                     encoding="utf-8")
    reader = scratch / "intake" / "reader.py"
    reader.write_text(reader.read_text(encoding="utf-8") + "\nfrom toolkit.definition.rules import linear\n",
                      encoding="utf-8")
    found = violations(scratch)
    line = len(lists.read_text(encoding="utf-8").splitlines())
    assert (f"toolkit/check/lists.py:{line}: upward import: check imports toolkit.reports (reports); a stage "
            f"imports only the stages before it: {ORDER}") in found
    assert any(p.startswith("toolkit/intake/reader.py:") and "reaches into toolkit.definition.rules, a module "
               "private to definition" in p for p in found)
    cycle = [p for p in found if p.startswith("import cycle between stages check -> reports -> check")]
    assert len(cycle) == 1 and "check -> reports at toolkit/check/lists.py" in cycle[0], found
    assert len(found) == 3, found
