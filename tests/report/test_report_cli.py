"""`overconf report RUN`: calls build_report and prints the page's path; user errors are one line + hint."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from synthetic_run import make_synthetic_run

import overconf.report
from overconf import cli
from overconf.report.combine import combine_runs
from overconf.report.figures import scatter
from overconf.report.load import load_run


def test_report_command_calls_build_report(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture,
                                           tmp_path: Path) -> None:
    calls = []
    monkeypatch.setattr(overconf.report, "build_report", lambda out, n_resamples, workers: calls.append(
        (out, n_resamples, workers)) or out / "report" / "report.html")
    monkeypatch.setattr(sys, "argv", ["overconf", "report", str(tmp_path), "--n-resamples", "50", "--workers", "2"])
    with pytest.raises(SystemExit) as exit_info:
        cli.app()
    assert exit_info.value.code == 0
    assert calls == [(tmp_path, 50, 2)]
    assert capsys.readouterr().out.strip() == str(tmp_path / "report" / "report.html")


def test_report_on_a_folder_without_records_is_a_user_error(monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture, tmp_path: Path) -> None:
    monkeypatch.setattr(sys, "argv", ["overconf", "report", str(tmp_path)])
    with pytest.raises(SystemExit) as exit_info:
        cli.main()
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "error:" in err and "no records under" in err and "hint:" in err


@pytest.mark.slow  # ~16 s on 2 idle cores: one report of two runs through the CLI
def test_report_of_two_runs_combines_them(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture,
                                          tmp_path: Path) -> None:
    """Two runs with the same model names (a CIFAR-10-like and a CIFAR-100-like run): one report, one row each."""
    first = make_synthetic_run(tmp_path / "c10", pairs=("relu-maxpool",), n=120, dataset="cifar10",
                               perturbations={"clean": ("clean", 0.9, 0.8), "pgd": ("attack", 0.05, 0.45)})
    second = make_synthetic_run(tmp_path / "c100", pairs=("relu-maxpool",), n=120, dataset="cifar100", seed=1,
                                perturbations={"clean": ("clean", 0.7, 0.6), "pgd": ("attack", 0.05, 0.3)})
    out = tmp_path / "both"
    monkeypatch.setattr(sys, "argv", ["overconf", "report", str(first), str(second), "--out", str(out),
                                      "--n-resamples", "50"])
    with pytest.raises(SystemExit) as exit_info:
        cli.app()
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == str(out / "report.html")
    claims = {c["id"]: c for c in json.loads((out / "claims.json").read_text())}
    assert claims["every-pair-clean"]["pairs_expected"] == ["c10/relu-maxpool", "c100/relu-maxpool"]
    run = load_run(out, *combine_runs([first, second]))
    assert run.datasets == ["cifar10", "cifar100"]
    fig = scatter.figure_confidence_scatter(run)
    titles = [ax.get_title() for ax in fig.axes if ax.get_label() != "<colorbar>" and ax.axison]
    assert titles == ["CIFAR-10 · Clean", "CIFAR-10 · PGD", "CIFAR-100 · Clean", "CIFAR-100 · PGD"]


def test_several_runs_need_out(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, tmp_path: Path) -> None:
    monkeypatch.setattr(sys, "argv", ["overconf", "report", str(tmp_path), str(tmp_path / "b")])
    with pytest.raises(SystemExit) as exit_info:
        cli.main()
    assert exit_info.value.code == 2
    assert "need --out DIR" in capsys.readouterr().err
