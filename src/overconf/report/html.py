"""One self-contained HTML page: claims with verdicts, figures (base64 PNG), tables, and the run's provenance.

No network access is needed to read it: no external CSS, JavaScript, fonts or images; every text that
comes from the run is escaped with :func:`html.escape`. The layout is fluid (viewport meta, images at
most 100% wide, wide tables scroll inside their box) and has an ``@media print`` style.
"""

from __future__ import annotations

import base64
import json
import math
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from overconf.report.claims import (
    INCONCLUSIVE,
    INFO,
    NOT_SUPPORTED,
    NOT_TESTABLE,
    PARTLY,
    SUPPORTED,
    WARNING,
    Claim,
)


@dataclass(frozen=True)
class TableEntry:
    """A table on the page: shown open (compact tables) or collapsed in ``<details>``, with its CSV linked."""

    title: str
    note: str
    table: pd.DataFrame
    collapsed: bool = False
    csv: Path | None = None


@dataclass(frozen=True)
class FigureEntry:
    """A figure on the page: its anchor id, title, caption and PNG (embedded) and SVG (linked) files."""

    key: str
    title: str
    caption: str
    png: Path
    svg: Path


_VERDICT_CLASS = {SUPPORTED: "ok", PARTLY: "part", NOT_SUPPORTED: "no", INCONCLUSIVE: "inc", NOT_TESTABLE: "na",
                  WARNING: "warn", INFO: "info"}

CSS = """
:root { --fg:#1d1d1f; --muted:#5b5b66; --line:#d9d9e0; --bg:#ffffff; --soft:#f5f5f8; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin:0; color:var(--fg); background:var(--bg); font: 16px/1.5 system-ui, -apple-system, "Segoe UI",
       Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1100px; margin: 0 auto; padding: 1rem 1.25rem 3rem; }
h1 { font-size: 1.6rem; margin: .5rem 0 .25rem; }
h2 { font-size: 1.25rem; margin-top: 2.2rem; border-bottom: 1px solid var(--line); padding-bottom: .2rem; }
h3 { font-size: 1.05rem; margin: 1.2rem 0 .3rem; }
p.lead, .muted { color: var(--muted); }
nav ul { padding-left: 1.1rem; columns: 2 14rem; }
figure { margin: 1.2rem 0; padding: .5rem; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
figure img { display: block; max-width: 100%; height: auto; margin: 0 auto; }
figcaption { font-size: .9rem; color: var(--muted); margin-top: .4rem; }
.scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; font-size: .85rem; margin: .4rem 0 1rem; }
th, td { border-bottom: 1px solid var(--line); padding: .25rem .5rem; text-align: left; vertical-align: top; }
th { background: var(--soft); }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
code, .hash { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .8rem;
              word-break: break-all; }
.claim { border: 1px solid var(--line); border-left-width: 6px; border-radius: 6px; padding: .6rem .8rem;
         margin: .8rem 0; }
.claim p { margin: .2rem 0; overflow-wrap: anywhere; }
.claim li { overflow-wrap: anywhere; }
.claim .source { font-size: .85rem; color: var(--muted); }
.claim ul.failed { color: #7a1f1f; }
details summary { cursor: pointer; font-size: .88rem; color: var(--muted); }
.claim ul { margin: .3rem 0 0; padding-left: 1.2rem; font-size: .88rem; }
.pill { display: inline-block; font-size: .72rem; font-weight: 600; padding: .05rem .45rem; border-radius: 1rem;
        color: #fff; white-space: nowrap; }
.pill.ok { background: #1b7837; } .pill.part { background: #b8860b; } .pill.no { background: #b2182b; }
.pill.inc { background: #5a5a8a; } .pill.na { background: #777; } .pill.warn { background: #c2410c; }
.pill.info { background: #2166ac; }
table.verdicts td { border-bottom: 1px solid var(--line); }
p, li, figcaption, summary, h1, h2, h3 { overflow-wrap: anywhere; }
details { margin: .6rem 0; }
.badge { display: inline-block; font-size: .75rem; font-weight: 600; padding: .05rem .5rem; border-radius: 1rem;
         color: #fff; text-transform: uppercase; letter-spacing: .02em; }
.ok { border-left-color: #1b7837; } .ok .badge { background: #1b7837; }
.part { border-left-color: #b8860b; } .part .badge { background: #b8860b; }
.no { border-left-color: #b2182b; } .no .badge { background: #b2182b; }
.inc { border-left-color: #6b6b9a; } .inc .badge { background: #5a5a8a; }
.na { border-left-color: #888; } .na .badge { background: #777; }
.warn { border-left-color: #d6604d; } .warn .badge { background: #c2410c; }
.info { border-left-color: #2166ac; } .info .badge { background: #2166ac; }
@media (max-width: 600px) {
  body { font-size: 15px; }
  main { padding: .6rem .7rem 2rem; }
  h1 { font-size: 1.3rem; }
  nav ul { columns: 1; }
  table { font-size: .78rem; }
}
@media print {
  body { font-size: 10.5pt; }
  main { max-width: none; padding: 0; }
  nav { display: none; }
  figure, .claim, table { break-inside: avoid; page-break-inside: avoid; }
  .scroll { overflow: visible; }
  a { color: inherit; text-decoration: none; }
  h2 { break-after: avoid; page-break-after: avoid; }
}
"""


def _text(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (float, np.floating)):
        return "–" if math.isnan(value) else f"{value:.3f}"
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)


def table_html(table: pd.DataFrame, *, hash_columns: tuple[str, ...] = ()) -> str:
    """An escaped HTML table in a horizontally scrolling box; numbers right-aligned with 3 decimals."""
    head = "".join(f"<th>{escape(str(c))}</th>" for c in table.columns)
    rows = []
    for row in table.itertuples(index=False):
        cells = []
        for column, value in zip(table.columns, row):
            numeric = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
            css = ' class="num"' if numeric else (' class="hash"' if column in hash_columns else "")
            cells.append(f"<td{css}>{escape(_text(value))}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>'


def _mapping_table(mapping: dict[str, Any]) -> str:
    return table_html(pd.DataFrame({"key": list(mapping), "value": [_text(v) for v in mapping.values()]}))


def claim_html(claim: Claim) -> str:
    """A claim's box: verdict badge, statement, where it comes from, what failed, and its evidence (collapsed)."""
    css = _VERDICT_CLASS.get(claim.verdict, "info")
    failed = "".join(f"<li>{escape(line)}</li>" for line in claim.failed)
    evidence = "".join(f"<li>{escape(line)}</li>" for line in claim.evidence)
    return (f'<div class="claim {css}" id="claim-{escape(claim.id)}"><p><span class="badge">{escape(claim.verdict)}'
            f"</span> <strong>{escape(claim.statement)}</strong></p>"
            f'<p class="source">Source: {escape(claim.source)}.</p><p>{escape(claim.summary)}</p>'
            + (f'<ul class="failed">{failed}</ul>' if failed and claim.verdict != WARNING else "")
            + (f"<details><summary>Evidence ({len(claim.evidence)})</summary><ul>{evidence}</ul></details>"
               if evidence else "") + "</div>")


def figure_html(entry: FigureEntry, base: Path) -> str:
    data = base64.b64encode(entry.png.read_bytes()).decode("ascii")
    svg = entry.svg.relative_to(base).as_posix() if entry.svg.is_relative_to(base) else entry.svg.name
    return (f'<figure id="{escape(entry.key)}"><img src="data:image/png;base64,{data}" alt="{escape(entry.title)}">'
            f"<figcaption><strong>{escape(entry.title)}.</strong> {escape(entry.caption)} "
            f'<a href="{escape(svg)}">vector (SVG)</a></figcaption></figure>')


def provenance_html(manifest: dict[str, Any]) -> str:
    """Command, creation time, seed, configuration, versions, data and checkpoint hashes, perturbations."""
    if not manifest:
        return '<p class="muted">This run has no run.json: configuration, versions and hashes are unknown.</p>'
    parts = [_mapping_table({"command": manifest.get("command"), "created": manifest.get("created"),
                             "seed": manifest.get("seed")})]
    if manifest.get("config"):
        parts += ["<h3>Configuration</h3>", _mapping_table(dict(manifest["config"]))]
    if manifest.get("versions"):
        parts += ["<h3>Versions</h3>", _mapping_table(dict(manifest["versions"]))]
    data = manifest.get("data")
    if data:
        items = data if isinstance(data, list) else [data]
        parts += ["<h3>Data</h3>", table_html(pd.DataFrame([{k: _text(v) for k, v in d.items()} for d in items]),
                                              hash_columns=("sha256",))]
    if manifest.get("models"):
        models = [{"model": m.get("model"), "pair": m.get("pair"), "robust": m.get("robust"), "dataset": m.get("dataset"),
                 "checkpoint": m.get("checkpoint"), "sha256": m.get("sha256"), "config": m.get("config") or {}}
                for m in manifest["models"]]
        parts += ["<h3>Models and checkpoints</h3>", table_html(pd.DataFrame(models), hash_columns=("sha256", "checkpoint"))]
    if manifest.get("perturbations"):
        listed = "".join(f"<li><code>{escape(str(p))}</code></li>" for p in manifest["perturbations"])
        parts += ["<h3>Perturbations</h3>", f"<ul>{listed}</ul>"]
    return "".join(parts)


def _link(path: Path | None, base: Path) -> str:
    if path is None:
        return ""
    href = path.relative_to(base).as_posix() if path.is_relative_to(base) else path.name
    return f' <a href="{escape(href)}">CSV</a>'


def table_entry_html(entry: TableEntry, base: Path) -> str:
    """A titled table; collapsed ones show their row count and open on a click."""
    note = f'<p class="muted">{escape(entry.note)}{_link(entry.csv, base)}</p>'
    if entry.collapsed:
        return (f"<details><summary><strong>{escape(entry.title)}</strong> ({len(entry.table)} rows)</summary>"
                f"{note}{table_html(entry.table)}</details>")
    return f"<h3>{escape(entry.title)}</h3>{note}{table_html(entry.table)}"


def verdict_table_html(claims: list[Claim]) -> str:
    """One line per claim: its verdict and statement, linked to its box below."""
    rows = "".join(
        f'<tr><td><span class="pill {_VERDICT_CLASS.get(c.verdict, "info")}">{escape(c.verdict)}</span></td>'
        f'<td><a href="#claim-{escape(c.id)}">{escape(c.statement)}</a></td></tr>' for c in claims)
    return f'<div class="scroll"><table class="verdicts"><tbody>{rows}</tbody></table></div>'


def render_page(*, title: str, run_label: str, manifest: dict[str, Any], claims: list[Claim],
                figures: list[FigureEntry], tables: list[TableEntry], base: Path, notes: list[str] | None = None) -> str:
    """The whole page, top-down: verdicts at a glance, each claim, the figures, compact tables (long ones
    collapsed, their CSV linked), the run's configuration (collapsed). ``base``: the folder the page is in;
    ``notes``: paragraphs shown above the claims (how they are judged: guards, pairing)."""
    notes_html = "".join(f'<p class="muted">{escape(n)}</p>' for n in notes or [])
    counts = pd.Series([c.verdict for c in claims]).value_counts()
    tally = ", ".join(f"{n} {escape(v)}" for v, n in counts.items())
    nav = "".join(f'<li><a href="#{escape(f.key)}">{escape(f.title)}</a></li>' for f in figures)
    table_parts = "".join(table_entry_html(t, base) for t in tables)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<style>{CSS}</style>
</head>
<body>
<main>
<h1>{escape(title)}</h1>
<p class="lead">Run <code>{escape(run_label)}</code>. Claims of Grabinski et al., “Robust Models are less
Over-Confident” (NeurIPS 2022), checked on this run's records: {tally}. Every claim and its numbers are also in
<a href="claims.json">claims.json</a>.</p>
<nav><ul><li><a href="#claims">Claims</a></li>{nav}<li><a href="#tables">Tables</a></li>
<li><a href="#provenance">Run configuration</a></li></ul></nav>
<section id="claims"><h2>Claims</h2>{notes_html}{verdict_table_html(claims)}{"".join(claim_html(c) for c in claims)}</section>
<section id="figures"><h2>Figures</h2>{"".join(figure_html(f, base) for f in figures)}</section>
<section id="tables"><h2>Tables</h2>{table_parts}</section>
<section id="provenance"><h2>Run configuration</h2><details><summary>Command, configuration, versions, data and
checkpoint hashes</summary>{provenance_html(manifest)}</details></section>
</main>
</body>
</html>
"""
