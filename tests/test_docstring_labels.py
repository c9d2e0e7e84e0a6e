"""Every perturbation label quoted in a docstring, a doctest or the README is one the registries build.

A quoted token counts as a label when it looks like a spec (``name:key=value``, ``name:anything``) or
names an OOD set (``ood-…``, ``ood:…``); it must then parse and build with
:func:`overconf.perturb.create_perturbation`, so ``fog:3`` or ``ood:uniform`` (labels of older versions)
fail here. Tokens that are clearly not labels (``module:function``, ``file://``, ``s3://``) are skipped.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from overconf.data.corruptions import CORRUPTIONS
from overconf.errors import ConfigError
from overconf.perturb import create_perturbation
from overconf.run.data import CORRUPTIONS_SPEC

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted((ROOT / "src" / "overconf").rglob("*.py"))
#: heads of ``head:rest`` tokens that are not perturbation labels
NOT_LABELS = {"module", "file", "mypkg", "name", "http", "https", "s3"}
_QUOTED = re.compile(r"``([^`\s]+)``|(?<!`)`([^`\s]+)`(?!`)")
_STRING = re.compile(r"""(?<![\w])(?:"([^"\s]+)"|'([^'\s]+)')""")
_SPEC = re.compile(r"[a-z][a-z0-9_]*(?:-[a-z0-9_]+)*(?::[^\s:]+)+")


def is_label(token: str) -> bool:
    token = token.replace("[", "").replace("]", "")
    if "…" in token or "..." in token or "<" in token or re.search(r"=[A-Z]+(:|$)", token):
        return False  # elided or a placeholder (severity=N)
    if token.startswith(("ood-", "ood:")):
        return True
    return bool(_SPEC.fullmatch(token)) and token.split(":")[0] not in NOT_LABELS


def quoted_labels(text: str) -> set[str]:
    """Labels in backticks anywhere in ``text`` and in string literals of its doctest lines."""
    found = {a or b for a, b in _QUOTED.findall(text)}
    for line in text.splitlines():
        if line.lstrip().startswith((">>>", "...")):
            found |= {a or b for a, b in _STRING.findall(line)}
    return {label for t in found if is_label(t) for label in _alternatives(t.replace("[", "").replace("]", ""))}


def _alternatives(token: str) -> list[str]:
    """``keep=last|worst`` (a doc's way to show choices) → one label per choice."""
    labels = [""]
    for part in token.split(":"):
        key, _, values = part.rpartition("=")
        labels = [f"{head}:{key}={v}" if key else f"{head}:{v}" for head in labels for v in values.split("|")]
    return [label[1:] for label in labels]


def docstrings(path: Path) -> str:
    tree = ast.parse(path.read_text())
    nodes = [tree, *(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef))]
    return "\n".join(doc for n in nodes if (doc := ast.get_docstring(n)))


def _builds(label: str) -> bool:
    name, sep, params = label.partition(":")
    if name == CORRUPTIONS_SPEC:  # the group a run expands to every corruption
        label = CORRUPTIONS[0] + sep + params
    try:
        create_perturbation(label, 0.1)
    except ConfigError:
        return False
    return True


def _all_quoted() -> list[tuple[str, str]]:
    found = {(str(p.relative_to(ROOT)), label) for p in SOURCES for label in quoted_labels(docstrings(p))}
    found |= {("README.md", label) for label in quoted_labels((ROOT / "README.md").read_text())}
    return sorted(found)


QUOTED = _all_quoted()


def test_the_scan_finds_labels_and_rejects_stale_ones():
    text = 'Labels ``fog:3``, `ood:uniform`, ``module:function``.\n>>> slug("pgd:steps=50")'
    assert quoted_labels(text) == {"fog:3", "ood:uniform", "pgd:steps=50"}
    assert quoted_labels("``pgd:keep=last|worst``") == {"pgd:keep=last", "pgd:keep=worst"}
    assert quoted_labels("`corruptions:severity=N`, `corruptions:severity=5`") == {"corruptions:severity=5"}
    assert _builds("corruptions:severity=5") and not _builds("corruptions:severity=9")
    assert not _builds("fog:3") and not _builds("ood:uniform") and _builds("pgd:steps=50")
    assert len(QUOTED) >= 8  # the README's and the docstrings' examples are found


@pytest.mark.parametrize(("where", "label"), QUOTED, ids=[f"{w}:{lab}" for w, lab in QUOTED])
def test_quoted_label_is_registered(where: str, label: str):
    assert _builds(label), f"{where} quotes {label!r}, which no registered perturbation builds"
