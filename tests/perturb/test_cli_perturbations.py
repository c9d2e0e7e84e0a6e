"""``overconf perturbations`` lists what is registered."""

from __future__ import annotations

from typer.testing import CliRunner

from overconf.cli import app
from overconf.data.corruptions import CORRUPTIONS
from overconf.perturb.listing import list_perturbations


def test_lists_every_registered_perturbation_with_its_family() -> None:
    result = CliRunner().invoke(app, ["perturbations"])
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line.split()[1] for line in result.output.splitlines() if line and not line.startswith(" ")}
    assert rows == {e.name: e.family for e in list_perturbations()}
    assert {name for name, family in rows.items() if family == "corruption"} == set(CORRUPTIONS)
    assert {"pgd", "fgsm", "apgd-ce", "apgd-t", "square", "autoattack"} <= {n for n, f in rows.items() if f == "attack"}
    assert "steps=20" in result.output and "n_queries=5000" in result.output


def test_family_filter_and_unknown_family() -> None:
    result = CliRunner().invoke(app, ["perturbations", "--family", "ood"])
    assert result.exit_code == 0
    assert [line.split()[0] for line in result.output.splitlines() if line and not line.startswith(" ")] == [
        "ood-digits", "ood-gaussian", "ood-uniform"]
    assert CliRunner().invoke(app, ["perturbations", "--family", "weather"]).exit_code != 0
