"""Resumable, checked downloads against a local HTTP server with Range support (no network)."""

from __future__ import annotations

import hashlib
import http.server
import threading
from pathlib import Path
from typing import ClassVar

import pytest

from overconf.errors import CheckpointError
from overconf.zoo.fetch import FetchError, Source, download, read_checksums

PAYLOAD = bytes(range(256)) * 4000  # 1,024,000 bytes


class _RangeHandler(http.server.BaseHTTPRequestHandler):
    """Serves PAYLOAD at /file (honouring ``Range: bytes=N-`` when ``ranges`` is on) and a page at /page."""

    ranges = True
    seen: ClassVar[list[str | None]] = []

    def do_GET(self) -> None:
        type(self).seen.append(self.headers.get("Range"))
        if self.path == "/page":
            body = b"<html>quota exceeded</html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
        else:
            start = 0
            header = self.headers.get("Range")
            if header and self.ranges:
                start = int(header.removeprefix("bytes=").rstrip("-"))
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(PAYLOAD) - 1}/{len(PAYLOAD)}")
            else:
                self.send_response(200)
            body = PAYLOAD[start:]
            self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def server():
    _RangeHandler.seen = []
    _RangeHandler.ranges = True
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _RangeHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


SHA = hashlib.sha256(PAYLOAD).hexdigest()


def test_resumes_a_partial_download_and_records_the_hash(tmp_path, server):
    dest = tmp_path / "cifar10" / "Linf" / "m.pt"
    dest.parent.mkdir(parents=True)
    (dest.parent / "m.pt.part").write_bytes(PAYLOAD[:300_000])
    download(Source(f"{server}/file", dest, SHA), tmp_path, progress=False)
    assert _RangeHandler.seen == ["bytes=300000-"]
    assert dest.read_bytes() == PAYLOAD and not (dest.parent / "m.pt.part").exists()
    record = read_checksums(tmp_path)["cifar10/Linf/m.pt"]
    assert record["sha256"] == SHA and record["size"] == len(PAYLOAD) and record["url"].endswith("/file")


def test_server_without_ranges_restarts_from_zero(tmp_path, server):
    _RangeHandler.ranges = False
    dest = tmp_path / "m.pt"
    (tmp_path / "m.pt.part").write_bytes(b"garbage" * 10)
    download(Source(f"{server}/file", dest, SHA), tmp_path, progress=False)
    assert dest.read_bytes() == PAYLOAD


def test_hash_mismatch_removes_the_partial_file(tmp_path, server):
    dest = tmp_path / "m.pt"
    (tmp_path / "m.pt.part").write_bytes(b"X" * 1000)  # wrong first bytes: resuming can never fix it
    with pytest.raises(CheckpointError, match="SHA-256"):
        download(Source(f"{server}/file", dest, SHA), tmp_path, progress=False)
    assert not dest.exists() and not (tmp_path / "m.pt.part").exists()
    assert read_checksums(tmp_path) == {}


def test_html_instead_of_a_file_and_unreachable_server(tmp_path, server):
    with pytest.raises(FetchError, match="web page"):
        download(Source(f"{server}/page", tmp_path / "m.pt"), tmp_path, progress=False)
    with pytest.raises(FetchError):
        download(Source("http://127.0.0.1:9/file", tmp_path / "m.pt"), tmp_path, progress=False)


def test_file_urls_work_without_a_server(tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(PAYLOAD[:5000])
    dest = download(Source(src.as_uri(), tmp_path / "out" / "m.pt"), tmp_path, progress=False)
    assert Path(dest).read_bytes() == PAYLOAD[:5000]


def test_hash_prefix_in_a_hub_file_name_is_checked(tmp_path):
    src = tmp_path / "weights.bin"
    src.write_bytes(PAYLOAD)
    good = Source(src.as_uri(), tmp_path / "ok.pth", SHA[:8])
    assert download(good, tmp_path, progress=False).read_bytes() == PAYLOAD
    with pytest.raises(CheckpointError, match="SHA-256"):
        download(Source(src.as_uri(), tmp_path / "bad.pth", "00000000"), tmp_path, progress=False)


def test_fetch_command_logic_fetches_missing_and_reports_failures(tmp_path, monkeypatch):
    from overconf.zoo import load_catalogue, manage

    src = tmp_path / "remote.bin"
    src.write_bytes(PAYLOAD[:100])
    selection = load_catalogue().select("cifar10", ["Andriushchenko2020Understanding"])
    plan = {
        "Andriushchenko2020Understanding": Source(src.as_uri(), tmp_path / "m" / "robust.pt"),
        "Andriushchenko2020Understanding_normal": Source((tmp_path / "nowhere.bin").as_uri(), tmp_path / "m" / "n.tar"),
    }
    monkeypatch.setattr(manage, "sources", lambda model, models_dir: [plan[model.name]])
    outcomes = {s.path.name: o for s, o in manage.fetch(selection, tmp_path, progress=False)}
    assert outcomes["robust.pt"] == "fetched" and "nowhere.bin" in outcomes["n.tar"]
    assert (tmp_path / "m" / "robust.pt").read_bytes() == PAYLOAD[:100]
    again = {s.path.name: o for s, o in manage.fetch(selection, tmp_path, progress=False)}
    assert again["robust.pt"] == "present"
    assert [s.state for s in manage.status(selection, tmp_path)] == ["missing", "present"]
