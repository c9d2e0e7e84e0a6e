"""Check that every pin of the locks can be installed, from the package index, on every platform we support.

For each pin of ``requirements.lock`` and ``requirements-test.lock`` and each target (platform × Python)
whose environment its markers select, the index must hold, for the pinned version, a wheel whose tags the
target accepts and whose ``Requires-Python`` admits it, or an sdist of a package named in ``SDIST_ALLOWED``
(packages checked by hand to build without a compiler). Also checked, offline: on every target at most one
pin of a name applies. Nothing is downloaded except the index's project pages (PEP 691 JSON, else PEP 503
HTML), fetched in parallel, one per distinct name.

The index is pip's: ``--index-url``, else ``$PIP_INDEX_URL``, else pip's configured ``index-url``, else pip's
default. Extra indexes and find-links are machine-local and not consulted: researchers install from the
index alone. An index that cannot be reached is one error line and exit status 2; failures are one line per
pin × target and exit status 1.

Usage: ``python tools/check_locks.py [--index-url URL] [--glibc 2.28] [--macos 14.0] [LOCK ...]``
(``make check-locks``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.tags import Tag, compatible_tags, cpython_tags, mac_platforms
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
LOCKS = ("requirements.lock", "requirements-test.lock")
PYTHONS = ((3, 11), (3, 12), (3, 13))
#: Patch releases at which markers and Requires-Python are evaluated: the first and any later one.
PATCHES = (0, 99)
#: Pins allowed to install from an sdist (no wheel for the target): name -> why it builds without a compiler.
#: Empty: today every pin has a wheel for every target.
SDIST_ALLOWED: dict[str, str] = {}
JSON_ACCEPT = "application/vnd.pypi.simple.v1+json, text/html;q=0.1"
TIMEOUT_S = 60


class IndexUnreachable(Exception):
    """The index did not answer (network, TLS, server error): the check cannot say anything."""


@dataclass(frozen=True)
class Pin:
    """One ``name==version ; marker`` line of a lock."""

    name: str  # canonical
    version: Version
    marker: Marker | None
    lock: str
    line: str

    def applies(self, env: Mapping[str, str]) -> bool:
        return self.marker is None or self.marker.evaluate(dict(env))


@dataclass(frozen=True)
class Target:
    """A platform × Python researchers use: its marker environment and the wheel tags it accepts."""

    platform: str  # e.g. linux-x86_64
    python: tuple[int, int]
    sys_platform: str
    platform_system: str
    machine: str
    platform_tags: tuple[str, ...]
    tags: frozenset[Tag] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        interpreter = f"cp{self.python[0]}{self.python[1]}"
        tags = set(cpython_tags(self.python, [interpreter], self.platform_tags))
        tags |= set(compatible_tags(self.python, interpreter, self.platform_tags))
        object.__setattr__(self, "tags", frozenset(tags))

    @property
    def name(self) -> str:
        return f"{self.platform} py{self.python[0]}.{self.python[1]}"

    def full_versions(self) -> list[str]:
        return [f"{self.python[0]}.{self.python[1]}.{patch}" for patch in PATCHES]

    def environment(self, full_version: str) -> dict[str, str]:
        """PEP 508 marker environment of this target at Python ``full_version``."""
        return {
            "implementation_name": "cpython", "implementation_version": full_version, "os_name": "posix",
            "platform_machine": self.machine, "platform_python_implementation": "CPython",
            "platform_release": "", "platform_system": self.platform_system, "platform_version": "",
            "python_full_version": full_version, "python_version": f"{self.python[0]}.{self.python[1]}",
            "sys_platform": self.sys_platform, "extra": "",
        }


def manylinux_platforms(arch: str, glibc: tuple[int, int]) -> tuple[str, ...]:
    """Platform tags a glibc ``glibc`` Linux on ``arch`` accepts, newest first (PEP 600 plus legacy aliases)."""
    major, newest = glibc
    oldest = 17 if arch == "aarch64" else 5  # aarch64 wheels start at manylinux2014 (glibc 2.17)
    tags = [f"manylinux_{major}_{minor}_{arch}" for minor in range(newest, oldest - 1, -1)]
    legacy = {(2, 17): "manylinux2014", (2, 12): "manylinux2010", (2, 5): "manylinux1"}
    tags += [f"{alias}_{arch}" for (_, minor), alias in legacy.items() if oldest <= minor <= newest]
    return (*tags, f"linux_{arch}")


def targets(glibc: tuple[int, int] = (2, 28), macos: tuple[int, int] = (14, 0),
            pythons: Iterable[tuple[int, int]] = PYTHONS) -> list[Target]:
    """Linux x86-64 and aarch64 (manylinux, glibc ``glibc``) and macOS arm64 (``macos``) × ``pythons``."""
    platforms = [
        ("linux-x86_64", "linux", "Linux", "x86_64", manylinux_platforms("x86_64", glibc)),
        ("linux-aarch64", "linux", "Linux", "aarch64", manylinux_platforms("aarch64", glibc)),
        ("macos-arm64", "darwin", "Darwin", "arm64", tuple(mac_platforms(macos, "arm64"))),
    ]
    return [Target(name, python, sys_platform, system, machine, tags)
            for name, sys_platform, system, machine, tags in platforms for python in pythons]


def parse_lock(text: str, lock: str) -> list[Pin]:
    """The ``name==version`` pins of a requirements file (comments and option lines skipped)."""
    pins = []
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "-")):
            continue
        req = Requirement(line)
        specs = list(req.specifier)
        if len(specs) != 1 or specs[0].operator != "==" or "*" in specs[0].version:
            raise ValueError(f"{lock}: not an exact pin: {line!r}")
        pins.append(Pin(canonicalize_name(req.name), Version(specs[0].version), req.marker, lock, line))
    return pins


@dataclass(frozen=True)
class IndexFile:
    """One file of a project page: its name and Requires-Python."""

    filename: str
    requires_python: str | None = None


def verdict(pin: Pin, target: Target, files: list[IndexFile] | None) -> str | None:
    """``None`` when ``pin`` installs on ``target`` from ``files`` (its project's page), else the reason.

    ``files`` is ``None`` when the index has no such project. Only called where the pin's markers apply.
    """
    if files is None:
        return "project not on the index"
    wheels, sdists = [], []
    for f in files:
        try:
            if f.filename.endswith(".whl"):
                _, version, _, tags = parse_wheel_filename(f.filename)
                if version == pin.version:
                    wheels.append((f, tags))
            else:
                _, version = parse_sdist_filename(f.filename)
                if version == pin.version:
                    sdists.append(f)
        except (InvalidWheelFilename, InvalidSdistFilename):
            continue
    if not wheels and not sdists:
        return f"version {pin.version} not on the index"

    def python_ok(f: IndexFile) -> bool:
        spec = SpecifierSet(f.requires_python or "")
        return any(spec.contains(v, prereleases=True) for v in admitted(pin, target))

    tagged = [f for f, tags in wheels if tags & target.tags]
    if any(python_ok(f) for f in tagged):
        return None
    if tagged:
        return f"wheels for this platform require Python {tagged[0].requires_python}"
    if sdists and pin.name in SDIST_ALLOWED and any(python_ok(f) for f in sdists):
        return None
    mac = target.sys_platform == "darwin"
    archs = ("arm64", "universal2") if mac else (target.machine,)
    os_prefix = "macosx" if mac else ("manylinux", "linux")
    near = {t for _, tags in wheels for t in tags
            if t.platform.startswith(os_prefix) and any(a in t.platform for a in archs)}
    py = f"{target.python[0]}{target.python[1]}"
    mine = {t for t in near if t.interpreter in (f"cp{py}", f"py{py}", "py3")}
    have = sorted({f"{t.interpreter}-{t.platform}" for t in mine or near})
    more = f" (has {', '.join(have[:4])}{', ...' if len(have) > 4 else ''})" if have else ""
    more = more or f" (none for {target.platform})"
    if sdists:
        return f"no compatible wheel{more}; an sdist, but not in SDIST_ALLOWED"
    return f"no compatible wheel{more}"


def admitted(pin: Pin, target: Target) -> list[str]:
    """The target's Python versions (first and later patch release) at which ``pin``'s markers hold."""
    return [v for v in target.full_versions() if pin.applies(target.environment(v))]


def conflicts(pins: list[Pin], target: Target) -> list[str]:
    """Names pinned more than once in one lock for one environment of ``target``."""
    found = []
    for version in target.full_versions():
        env = target.environment(version)
        seen: dict[tuple[str, str], Pin] = {}
        for pin in pins:
            if pin.applies(env):
                key = (pin.lock, pin.name)
                if key in seen and seen[key].version != pin.version:
                    found.append(f"{pin.lock}: {pin.name} pinned twice ({seen[key].version}, {pin.version}) "
                                 f"on {target.platform} Python {version}")
                seen[key] = pin
    return found


class _LinkParser(HTMLParser):
    """The anchors of a PEP 503 project page."""

    def __init__(self) -> None:
        super().__init__()
        self.files: list[IndexFile] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "a":
            return
        a = dict(attrs)
        href = a.get("href") or ""
        filename = urllib.parse.unquote(urllib.parse.urlsplit(href).path.rsplit("/", 1)[-1])
        self.files.append(IndexFile(filename, a.get("data-requires-python")))


def parse_page(body: bytes, content_type: str) -> list[IndexFile]:
    """The files of a project page, PEP 691 JSON or PEP 503 HTML."""
    if "json" in content_type:
        data = json.loads(body)
        return [IndexFile(f["filename"], f.get("requires-python")) for f in data["files"]]
    parser = _LinkParser()
    parser.feed(body.decode("utf-8", "replace"))
    return parser.files


def fetch_project(index_url: str, name: str) -> list[IndexFile] | None:
    """The files the index lists for ``name``; ``None`` when it has no such project (404)."""
    url = f"{index_url.rstrip('/')}/{name}/"
    if url.startswith("file:"):
        path = Path(urllib.request.url2pathname(urllib.parse.urlsplit(url).path)) / "index.html"
        return parse_page(path.read_bytes(), "text/html") if path.exists() else None
    request = urllib.request.Request(url, headers={"Accept": JSON_ACCEPT, "User-Agent": "overconf-check-locks"})
    for attempt in range(3):
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
                return parse_page(response.read(), response.headers.get("Content-Type", ""))
        except urllib.error.HTTPError as err:
            if err.code == 404:
                return None
            error: Exception = err
            if err.code < 500:
                break
        except (urllib.error.URLError, OSError) as err:
            error = err
        time.sleep(1 + attempt)
    raise IndexUnreachable(f"{url}: {getattr(error, 'reason', error)}")


def pip_index_url() -> str:
    """The index pip installs from: ``$PIP_INDEX_URL``, pip's configured ``index-url``, else pip's default."""
    if os.environ.get("PIP_INDEX_URL"):
        return os.environ["PIP_INDEX_URL"].split()[0]
    try:
        listing = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True,
                                 text=True, check=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        listing = ""
    config = {}
    for line in listing.splitlines():
        key, _, value = line.partition("=")
        config[key.strip()] = value.strip().strip("'\"")
    for key in ("install.index-url", "global.index-url"):
        if config.get(key):
            return config[key].split()[0]
    try:
        from pip._internal.models.index import PyPI  # pip's own default, so no host is written here
    except ImportError:
        raise SystemExit("check-locks: error: pip is not importable here; give --index-url") from None
    return str(PyPI.simple_url)


def run(lock_paths: list[Path], index_url: str, target_list: list[Target], workers: int = 16) -> int:
    started = time.monotonic()
    pins = [pin for path in lock_paths for pin in parse_lock(path.read_text(), path.name)]
    failures = [line for target in target_list for line in conflicts(pins, target)]
    checks = [(pin, target) for pin in pins for target in target_list if admitted(pin, target)]
    names = sorted({pin.name for pin, _ in checks})
    pool = ThreadPoolExecutor(max_workers=workers)
    try:  # one page first, so an unreachable index is one error, not one per project
        pages = {names[0]: fetch_project(index_url, names[0])} if names else {}
        pages.update(zip(names[1:], pool.map(lambda n: fetch_project(index_url, n), names[1:]), strict=True))
    except IndexUnreachable as err:
        pool.shutdown(wait=False, cancel_futures=True)
        print(f"check-locks: error: cannot read the package index {index_url}: {err}", file=sys.stderr)
        return 2
    pool.shutdown()
    if names and all(page is None for page in pages.values()):
        print(f"check-locks: error: the package index {index_url} knows none of the {len(names)} projects "
              "(not a simple index?)", file=sys.stderr)
        return 2
    verdicts: dict[tuple[str, Version, str], str | None] = {}
    for pin, target in checks:  # a pin shared by both locks is judged once per target
        key = (pin.name, pin.version, target.name)
        if key not in verdicts:
            verdicts[key] = verdict(pin, target, pages[pin.name])
        if verdicts[key] is not None:
            failures.append(f"{pin.lock}: {pin.name}=={pin.version} on {target.name}: {verdicts[key]}")
    sdist = sorted({f"{pin.name}=={pin.version}" for pin, _ in checks if pin.name in SDIST_ALLOWED})
    for line in failures:
        print(f"FAIL {line}")
    skipped = len(pins) * len(target_list) - len(checks)
    print(f"check-locks: {len(pins)} pins in {len(lock_paths)} locks ({len(names)} projects) × "
          f"{len(target_list)} targets: {len(checks)} pin × target checks "
          f"({skipped} not selected by markers), "
          f"{len(failures)} failed; sdist allowed: {', '.join(sdist) or 'none'}; "
          f"index {index_url}; {time.monotonic() - started:.1f} s")
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("locks", nargs="*", type=Path, default=[ROOT / lock for lock in LOCKS])
    parser.add_argument("--index-url", help="simple index to check against (default: pip's)")
    parser.add_argument("--glibc", default="2.28", help="oldest glibc the Linux targets have (default 2.28)")
    parser.add_argument("--macos", default="14.0", help="oldest macOS the arm64 target has (default 14.0)")
    args = parser.parse_args(argv)
    glibc = tuple(int(p) for p in args.glibc.split("."))
    macos = tuple(int(p) for p in args.macos.split("."))
    target_list = targets((glibc[0], glibc[1]), (macos[0], macos[1]))
    return run(args.locks, args.index_url or pip_index_url(), target_list)


if __name__ == "__main__":
    sys.exit(main())
