"""Count ``Any`` in the public function signatures of every package (issue #14:
"how many ``Any`` remain at package boundaries; goal: none").

Public: a module-level function, or a method of a module-level class, whose
name (and whose class's and module's names) does not start with ``_``
(``__init__`` counts: it is how the class is called). Each ``Any`` in a
parameter or return annotation counts once (``dict[str, Any]`` is one).

    python scripts/count_any.py            # per package, with the total
    python scripts/count_any.py -v         # and every signature that has one
    python scripts/count_any.py --max 40   # exit 1 above 40 (a ratchet for CI)
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = (
    "app",
    "occupancy",
    "sensors_sim",
    "ingest",
    "analytics",
    "dashboard",
    "api",
    "notify",
)

Func = ast.FunctionDef | ast.AsyncFunctionDef


def _any_in(node: ast.expr | None) -> int:
    if node is None:
        return 0
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:  # a string annotation
            node = ast.parse(node.value, mode="eval").body
        except SyntaxError:
            return 0
    return sum(
        1
        for n in ast.walk(node)
        if (isinstance(n, ast.Name) and n.id == "Any")
        or (isinstance(n, ast.Attribute) and n.attr == "Any")
    )


def signature_anys(fn: Func) -> int:
    """``Any`` in the annotations of ``fn``'s parameters and return."""
    a = fn.args
    params = [*a.posonlyargs, *a.args, *a.kwonlyargs]
    params += [p for p in (a.vararg, a.kwarg) if p is not None]
    return sum(_any_in(p.annotation) for p in params) + _any_in(fn.returns)


def _public(name: str) -> bool:
    return not name.startswith("_") or name == "__init__"


def public_functions(tree: ast.Module) -> Iterator[tuple[str, Func]]:
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if _public(node.name):
                yield node.name, node
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    if _public(item.name):
                        yield f"{node.name}.{item.name}", item


def count(root: Path = ROOT) -> dict[str, list[tuple[str, int]]]:
    """Per package: (``file:function``, number of ``Any``) of each public
    signature with at least one."""
    out: dict[str, list[tuple[str, int]]] = {}
    for pkg in PACKAGES:
        rows = out.setdefault(pkg, [])
        for path in sorted((root / pkg).rglob("*.py")):
            rel = path.relative_to(root)
            if any(p.startswith("_") and p != "__init__.py" for p in rel.parts):
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for name, fn in public_functions(tree):
                n = signature_anys(fn)
                if n:
                    rows.append((f"{rel.as_posix()}:{name}", n))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-v", "--verbose", action="store_true", help="list signatures")
    ap.add_argument("--max", type=int, help="exit 1 when the total is above this")
    ap.add_argument("--root", type=Path, default=ROOT, help="project directory")
    args = ap.parse_args(argv)
    found = count(args.root)
    total = 0
    for pkg, rows in found.items():
        n = sum(k for _, k in rows)
        total += n
        print(f"{pkg:12} {n:4}  ({len(rows)} signatures)")
        if args.verbose:
            for where, k in rows:
                print(f"    {k}  {where}")
    print(f"{'total':12} {total:4}")
    if args.max is not None and total > args.max:
        print(f"more than --max {args.max}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
