"""report.html rendered by headless Chromium at phone and desktop widths: a non-blank page, no console message.

Chromium is driven from the command line (``--screenshot``) rather than through the DevTools protocol: the
pinned set has no websocket client, and with ``--enable-logging=stderr --v=0`` every console message
(``console.*`` calls, uncaught errors) is logged as an ``INFO:CONSOLE`` line on stderr. The page carries no
JavaScript at all, so any such line is a failure.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def screenshot(page: Path, out: Path, width: int, height: int, profile: Path) -> str:
    """Render ``page`` into ``out`` (PNG); return Chromium's stderr."""
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--hide-scrollbars", f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
               f"--screenshot={out}", f"--window-size={width},{height}", page.resolve().as_uri()]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stderr


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (`apt-get install chromium`; make test does it)")
@pytest.mark.parametrize(("width", "height"), [(390, 1600), (1280, 1600)])
def test_report_renders_in_chromium(report_html: Path, tmp_path: Path, width: int, height: int) -> None:
    shot = tmp_path / "shot.png"
    stderr = screenshot(report_html, shot, width, height, tmp_path / "profile")
    assert "CONSOLE" not in stderr, [line for line in stderr.splitlines() if "CONSOLE" in line]
    pixels = np.asarray(Image.open(shot).convert("RGB"), dtype=np.int16)
    assert pixels.shape[:2] == (height, width)
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 50  # text, badges, figures: not a single colour
    ink = (np.abs(pixels - 255).sum(axis=2) > 60).mean()
    assert 0.02 < ink < 0.6  # some ink, on a light page
