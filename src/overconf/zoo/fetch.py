"""Downloads that happen only when asked: resumable (HTTP ``Range``), checked and recorded.

A file is downloaded to ``<dest>.part``; an interrupted download resumes from the bytes present when the
server answers a ``Range`` request with ``206 Partial Content`` (and starts over when it answers
``200``). A finished file is renamed onto ``dest`` only after its SHA-256 matched the expected hash
(when one is known), and its hash, size and URL are recorded in ``<models>/checksums.json``; later
``overconf zoo verify`` runs compare the file with that record.

We use :mod:`urllib.request` (standard library) rather than a client package: it speaks ``http(s)://``
and ``file://``, which the tests use with a local server.
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from overconf.errors import CheckpointError, OverconfError
from overconf.files import sha256_file, write_atomic

CHECKSUMS = "checksums.json"
CHUNK = 1 << 20
USER_AGENT = "overconf-zoo-fetch"
HUB_HASH = re.compile(r"-([a-f0-9]{8,64})\.[A-Za-z]+$")


class FetchError(OverconfError):
    """A download that failed (network, server, or a file that is not what was expected)."""


@dataclass(frozen=True)
class Source:
    """Where one local file comes from: its URL, its path, and its SHA-256 when known (the full hex digest,
    or its leading digits, as torch.hub file names carry them: ``resnet18-5c106cde.pth``)."""

    url: str
    path: Path
    sha256: str | None = None


def hub_hash_prefix(url: str) -> str | None:
    """The SHA-256 prefix in a torch.hub-style file name (``name-<hex>.ext``), if it has one.

    >>> hub_hash_prefix("https://download.pytorch.org/models/resnet18-5c106cde.pth")
    '5c106cde'
    >>> hub_hash_prefix("https://example.org/model.pt") is None
    True
    """
    match = HUB_HASH.search(url.rsplit("/", 1)[-1])
    return match.group(1) if match else None


def gdrive_url(file_id: str) -> str:
    """The direct-download URL of a public Google Drive file (RobustBench's ``gdrive_id``)."""
    return f"https://drive.usercontent.google.com/download?id={file_id}&export=download&confirm=t"


def zenodo_url(record: str, name: str) -> str:
    """The URL of file ``name`` of Zenodo record ``record``."""
    return f"https://zenodo.org/records/{record}/files/{name}?download=1"


def read_checksums(models_dir: Path) -> dict[str, dict[str, Any]]:
    """``relative path → {"sha256", "size", "url", "recorded"}`` of the files fetched into ``models_dir``."""
    path = Path(models_dir) / CHECKSUMS
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"{path}: not valid JSON ({exc})", hint=f"delete {path}; `overconf zoo fetch` rewrites it") from None


def record_checksum(models_dir: Path, path: Path, url: str, sha256: str) -> None:
    """Add or replace the record of ``path`` (a file under ``models_dir``) in ``checksums.json``."""
    models_dir = Path(models_dir)
    records = read_checksums(models_dir)
    records[Path(path).resolve().relative_to(models_dir.resolve()).as_posix()] = {
        "sha256": sha256,
        "size": Path(path).stat().st_size,
        "url": url,
        "recorded": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    text = json.dumps(records, indent=2, sort_keys=True)
    write_atomic(models_dir / CHECKSUMS, lambda tmp: tmp.write_text(text))


def _open(url: str, start: int) -> tuple[Any, bool, int | None]:
    """Open ``url`` asking for bytes from ``start``; return (response, resumed?, total size if known)."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    if start:
        request.add_header("Range", f"bytes={start}-")
    try:
        response = urllib.request.urlopen(request, timeout=60)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and start:  # nothing left to send: the part file is complete
            return None, True, start
        raise FetchError(f"{url}: HTTP {exc.code} {exc.reason}", hint="check the URL or try again later") from None
    except (urllib.error.URLError, OSError) as exc:
        raise FetchError(f"{url}: {exc}", hint="check the network connection; the download resumes when rerun") from None
    status = getattr(response, "status", None) or response.getcode()
    resumed = bool(start) and status == 206
    length = response.headers.get("Content-Length")
    total = (int(length) + (start if resumed else 0)) if length and length.isdigit() else None
    if (response.headers.get("Content-Type") or "").startswith("text/html"):
        response.close()
        raise FetchError(
            f"{url}: the server sent a web page instead of the file (quota exceeded or a confirmation page)",
            hint="download the file in a browser and put it at the path `overconf zoo list` shows",
        )
    return response, resumed, total


def download(source: Source, models_dir: Path | None = None, *, progress: bool = True) -> Path:
    """Download ``source.url`` to ``source.path`` (resuming a ``.part`` file), verify, record; return the path.

    Raises :class:`FetchError` on network failure and :class:`CheckpointError` on a hash mismatch (the
    partial file is deleted then, since resuming it could never succeed).
    """
    dest = Path(source.path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    start = part.stat().st_size if part.is_file() else 0
    response, resumed, total = _open(source.url, start)
    if response is not None:
        mode = "ab" if resumed else "wb"
        with response, open(part, mode) as handle, tqdm(
            total=total, initial=start if resumed else 0, unit="B", unit_scale=True, unit_divisor=1024,
            desc=dest.name, disable=not progress, leave=False,
        ) as bar:
            while block := response.read(CHUNK):
                handle.write(block)
                bar.update(len(block))
            handle.flush()
            os.fsync(handle.fileno())
    size = part.stat().st_size
    if total is not None and size != total:
        raise FetchError(
            f"{source.url}: got {size} of {total} bytes", hint="rerun the same command: the download resumes"
        )
    digest = sha256_file(part)
    if source.sha256 and not digest.startswith(source.sha256.lower()):
        part.unlink()
        raise CheckpointError(
            f"{dest.name}: SHA-256 {digest} differs from the catalogue's {source.sha256}",
            hint="the download was corrupted or the file changed upstream; the partial file was removed, fetch again",
        )
    os.replace(part, dest)
    if models_dir is not None:
        record_checksum(models_dir, dest, source.url, digest)
    return dest
