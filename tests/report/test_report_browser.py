"""report.html rendered by headless Chromium at phone and desktop widths: a non-blank page, no console message.

Chromium is driven from the command line (``--screenshot``) rather than through the DevTools protocol: the
pinned set has no websocket client, and with ``--enable-logging=stderr --v=0`` every console message
(``console.*`` calls, uncaught errors) is logged as an ``INFO:CONSOLE`` line on stderr. The page carries no
JavaScript at all, so any such line is a failure.
"""

from __future__ import annotations

import html
import json
import re
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


CHECK = """<!DOCTYPE html><html><body>
<iframe id="page" src="report.html" style="width:{width}px;height:900px;border:0"></iframe>
<script>
document.getElementById("page").addEventListener("load", () => {{
  const doc = document.getElementById("page").contentDocument;
  const images = [...doc.images].map(i => i.complete && i.naturalWidth > 0);
  const wide = [...doc.querySelectorAll("body *")].filter(e => e.getBoundingClientRect().right > doc.documentElement.clientWidth + 1 && !e.closest(".scroll")).map(e => e.tagName + "." + e.className).slice(0, 5);
  document.body.setAttribute("data-check", JSON.stringify({{scroll: doc.documentElement.scrollWidth,
    client: doc.documentElement.clientWidth, viewport: doc.defaultView.innerWidth, body: doc.body.scrollWidth,
    images, wide}}));
}});
</script></body></html>"""


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (`apt-get install chromium`; make test does it)")
@pytest.mark.parametrize("width", [390, 1280])
def test_page_fits_the_width_and_every_image_loads(report_html: Path, tmp_path: Path, width: int) -> None:
    """The page in an iframe of a phone's or a desktop's width (Chromium's window is at least 500 px wide):
    no horizontal overflow of the page body (wide tables scroll in their own box) and every figure loads."""
    shutil.copy(report_html, tmp_path / "report.html")  # self-contained: figures are data URIs
    (tmp_path / "check.html").write_text(CHECK.format(width=width))
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--allow-file-access-from-files",
               f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1400,1000", "--virtual-time-budget=5000",
               "--dump-dom", (tmp_path / "check.html").as_uri()]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    found = re.search(r'data-check="([^"]*)"', done.stdout)
    assert found, done.stderr[-2000:]
    check = json.loads(html.unescape(found.group(1)))
    assert check["viewport"] == width  # the client width is the viewport less the vertical scroll bar
    assert check["scroll"] <= check["client"] and check["body"] <= check["client"], check["wide"]
    n_figures = len(list((report_html.parent / "figures").glob("*.png")))
    assert len(check["images"]) == n_figures and all(check["images"])
