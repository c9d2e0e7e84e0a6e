"""report.html: self-contained, responsive, printable, escaped, with the run's provenance and every figure."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from overconf.report.claims import SUPPORTED, Claim
from overconf.report.html import claim_html, provenance_html, table_html


def test_page_is_self_contained_and_complete(report_html: Path, out: Path) -> None:
    page = report_html.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert "@media print" in page and "@media (max-width: 600px)" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)  # nothing fetched from a network
    assert "<script" not in page and "<link" not in page and "@import" not in page and "url(" not in page
    pngs = sorted((report_html.parent / "figures").glob("*.png"))
    assert [p.stem for p in pngs] == [
        "fig1_confidence_scatter", "fig2_overconfidence_bars", "fig3_misclassification_roc", "fig4_detection_roc",
        "fig5_density_synthetic_relu-flc", "fig5_density_synthetic_relu-maxpool", "fig6_density_synthetic_downsampling",
        "ood_auroc", "pair_differences", "reliability_synthetic"]
    assert sorted(p.stem for p in (report_html.parent / "figures").glob("*.svg")) == [p.stem for p in pngs]
    assert page.count('src="data:image/png;base64,') == len(pngs)
    manifest = json.loads((out / "run.json").read_text())
    for model in manifest["models"]:
        assert model["sha256"] in page and model["checkpoint"] in page
    assert manifest["data"]["sha256"] in page
    assert f"<td>numpy</td><td>{manifest['versions']['numpy']}</td>" in page
    for claim in ("In every pair the robust model has the lower over-confidence o(f) on clean data.",
                  "ECE is hard to interpret for models with accuracy below 50%."):
        assert claim in page
    # how the claims are judged is on the page: the guards' minimums and the unit of the paired test
    assert "fewer than 30 wrong predictions of either model" in page and "share their SHA-256" in page
    pdfs = sorted(p.name for p in (report_html.parent / "figures").glob("*.pdf"))
    assert pdfs == sorted(f"{p.stem}-{tag}.pdf" for p in pngs for tag in ("1col", "2col"))


def test_text_from_the_run_is_escaped() -> None:
    hostile = "<script>alert(1)</script>"
    assert "&lt;script&gt;" in table_html(pd.DataFrame({"model": [hostile]})) and hostile not in table_html(
        pd.DataFrame({"model": [hostile]}))
    claim = claim_html(Claim(id="k\"x", statement="a < b", source="ours", verdict=SUPPORTED, summary="s & t",
                             evidence=[hostile]))
    assert hostile not in claim and "a &lt; b" in claim and "s &amp; t" in claim and 'id="claim-k&quot;x"' in claim
    provenance = provenance_html({"command": "<b>run</b>", "models": [{"model": hostile, "sha256": "00"}]})
    assert "<b>run</b>" not in provenance and hostile not in provenance and "&lt;b&gt;run&lt;/b&gt;" in provenance
