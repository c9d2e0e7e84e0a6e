"""The README's Python examples run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)


def test_readme_has_python_examples() -> None:
    assert BLOCKS


@pytest.mark.parametrize("block", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_python_block_runs(block: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    exec(compile(block, str(README), "exec"), {"__name__": "readme"})  # noqa: S102 - the README is ours


def test_readme_contract_spec_parses_and_names_every_top_level_key(tmp_path: Path) -> None:
    """The README's contract spec is a valid spec, and it shows every top-level key a spec may have."""
    from overconf.run.spec import TOP_KEYS, parse_spec_text

    block = README.read_text().split("These keys are a public contract:\n\n```toml\n")[1].split("```")[0]
    parse_spec_text(block, "README.md", tmp_path)
    shown = set(re.findall(r"^\[*([a-z_]+)\]*\s*(?:=|#|$)", block, flags=re.MULTILINE))
    assert set(TOP_KEYS) - {"zoo", "name", "cache_dir"} <= shown  # zoo: the comment beside [[pair]] shows it
