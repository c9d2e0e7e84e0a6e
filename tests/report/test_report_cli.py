"""`overconf report RUN_DIR`: calls build_report and prints the page's path; user errors are one line + hint."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import overconf.report
from overconf import cli


def test_report_command_calls_build_report(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture,
                                           tmp_path: Path) -> None:
    calls = []
    monkeypatch.setattr(overconf.report, "build_report", lambda run_dir, n_resamples: calls.append(
        (run_dir, n_resamples)) or run_dir / "report" / "report.html")
    monkeypatch.setattr(sys, "argv", ["overconf", "report", str(tmp_path), "--n-resamples", "50"])
    with pytest.raises(SystemExit) as exit_info:
        cli.app()
    assert exit_info.value.code == 0
    assert calls == [(tmp_path, 50)]
    assert capsys.readouterr().out.strip() == str(tmp_path / "report" / "report.html")


def test_report_on_a_folder_without_records_is_a_user_error(monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture, tmp_path: Path) -> None:
    monkeypatch.setattr(sys, "argv", ["overconf", "report", str(tmp_path)])
    with pytest.raises(SystemExit) as exit_info:
        cli.main()
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "error:" in err and "no records under" in err and "hint:" in err
