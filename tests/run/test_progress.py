"""Progress for logs: one timestamped line per finished cell with done/total and an ETA; rough-rate estimates."""

from __future__ import annotations

import io
import re

from overconf.run.progress import RunProgress, rough_rate


def test_plain_lines_when_not_a_terminal() -> None:
    stream = io.StringIO()
    progress = RunProgress(total=4, done=1, stream=stream)
    progress.cell_done("m · clean", 1.25)
    progress.cell_done("m · pgd:steps=5", 0.5)
    progress.close()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \[2/4\] m · clean 1\.2 s, ETA \d+:\d\d", lines[0]), lines[0]
    assert lines[1].split(" ", 1)[1].startswith("[3/4] m · pgd:steps=5 0.5 s, ETA")
    silent = io.StringIO()
    RunProgress(total=2, done=0, enabled=False, stream=silent).cell_done("x", 1.0)
    assert silent.getvalue() == ""


def test_rough_rates_scale_with_attack_work() -> None:
    assert rough_rate("clean", {}) == 2000.0
    assert rough_rate("attack", {"steps": 20}) == 100.0
    assert rough_rate("attack", {"n_queries": 1000}) == 20.0
    assert rough_rate("attack", {"steps": 10, "restarts": 2}) == 100.0
