"""tools/check_locks.py's logic, offline: lock parsing, markers per target, wheel tags, the sdist allowlist.

The check against the real index is ``make check-locks`` (run by ``.ci/run``).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_locks", ROOT / "tools" / "check_locks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


cl = _load()
TARGETS = {t.name: t for t in cl.targets()}
LINUX, ARM, MAC = TARGETS["linux-x86_64 py3.11"], TARGETS["linux-aarch64 py3.12"], TARGETS["macos-arm64 py3.13"]


def pin(line: str) -> Any:
    (only,) = cl.parse_lock(line, "test.lock")
    return only


def files(*names: str, requires_python: str | None = None) -> list[Any]:
    return [cl.IndexFile(name, requires_python) for name in names]


def test_nine_targets() -> None:
    assert sorted(TARGETS) == sorted(f"{p} py3.{m}" for p in ("linux-x86_64", "linux-aarch64", "macos-arm64")
                                     for m in (11, 12, 13))


def test_parse_lock_skips_comments_and_options() -> None:
    text = ("# header\n--index-url x\n\ntorch==2.14.1\n    # via overconf\n"
            "soupsieve==2.10 ; python_full_version < '3.11.5'\n")
    pins = cl.parse_lock(text, "a.lock")
    assert [(p.name, str(p.version), str(p.marker) if p.marker else None) for p in pins] == [
        ("torch", "2.14.1", None), ("soupsieve", "2.10", 'python_full_version < "3.11.5"')]
    with pytest.raises(ValueError, match="not an exact pin"):
        cl.parse_lock("numpy>=2\n", "a.lock")


def test_markers_select_targets() -> None:
    cuda = pin("nvidia-cublas==13.1.1.3 ; sys_platform == 'linux'")
    assert cl.admitted(cuda, LINUX) and cl.admitted(cuda, ARM) and not cl.admitted(cuda, MAC)
    x86 = pin("nvidia-cufile==1.15.1.6 ; platform_machine == 'x86_64' and platform_system == 'Linux'")
    assert cl.admitted(x86, LINUX) and not cl.admitted(x86, ARM) and not cl.admitted(x86, MAC)
    assert not cl.admitted(pin("colorama==0.4.6 ; sys_platform == 'win32'"), LINUX)
    old = pin("soupsieve==2.10 ; python_full_version < '3.11.5'")  # early 3.11 patch releases only
    assert cl.admitted(old, LINUX) == ["3.11.0"] and not cl.admitted(old, ARM)


def test_wheel_tags_per_target() -> None:
    torch = pin("torch==2.14.1")
    page = files("torch-2.14.1-cp311-cp311-manylinux_2_28_x86_64.whl",
                 "torch-2.14.1-cp312-cp312-manylinux_2_28_aarch64.whl",
                 "torch-2.14.1-cp313-cp313-macosx_14_0_arm64.whl",
                 "torch-2.14.0-cp312-cp312-macosx_11_0_arm64.whl")
    for target in (LINUX, ARM, MAC):
        assert cl.verdict(torch, target, page) is None
    assert "no compatible wheel" in cl.verdict(torch, TARGETS["linux-x86_64 py3.12"], page)
    # 2.14.0's wheel does not count
    assert "no compatible wheel" in cl.verdict(torch, TARGETS["macos-arm64 py3.12"], page)
    assert cl.verdict(pin("torch==9.9"), LINUX, page) == "version 9.9 not on the index"
    assert cl.verdict(torch, LINUX, None) == "project not on the index"


def test_platform_levels() -> None:
    lib = pin("lib==1.0")
    # the Linux targets have glibc 2.28
    assert cl.verdict(lib, LINUX, files("lib-1.0-cp311-cp311-manylinux_2_34_x86_64.whl")) is not None
    assert cl.verdict(lib, LINUX, files("lib-1.0-cp311-cp311-manylinux2014_x86_64.whl")) is None
    assert cl.verdict(lib, LINUX, files("lib-1.0-cp311-cp311-manylinux1_x86_64.whl")) is None
    assert cl.verdict(lib, LINUX, files("lib-1.0-cp311-cp311-musllinux_1_2_x86_64.whl")) is not None
    assert cl.verdict(lib, ARM, files("lib-1.0-cp312-cp312-manylinux_2_17_x86_64.whl")) is not None
    assert cl.verdict(lib, MAC, files("lib-1.0-cp313-cp313-macosx_15_0_arm64.whl")) is not None  # macOS 14
    assert cl.verdict(lib, MAC, files("lib-1.0-cp313-cp313-macosx_10_9_universal2.whl")) is None
    assert cl.verdict(lib, MAC, files("lib-1.0-cp313-cp313-macosx_10_9_x86_64.whl")) is not None
    abi3 = files("lib-1.0-cp312-abi3-manylinux_2_17_aarch64.whl")
    assert cl.verdict(lib, ARM, abi3) is None and cl.verdict(lib, TARGETS["linux-aarch64 py3.13"], abi3) is None
    assert cl.verdict(lib, TARGETS["linux-aarch64 py3.11"], abi3) is not None
    pure = files("lib-1.0-py3-none-any.whl")
    assert all(cl.verdict(lib, t, pure) is None for t in TARGETS.values())


def test_requires_python() -> None:
    lib = pin("lib==1.0")
    page = files("lib-1.0-py3-none-any.whl", requires_python=">=3.12")
    assert cl.verdict(lib, LINUX, page) == "wheels for this platform require Python >=3.12"
    assert cl.verdict(lib, ARM, page) is None
    patch = pin("lib==1.0 ; python_full_version >= '3.11.5'")  # judged at the patch releases its marker selects
    assert cl.verdict(patch, LINUX, files("lib-1.0-py3-none-any.whl", requires_python=">=3.11.5")) is None


def test_sdist_only_needs_the_allowlist(monkeypatch: pytest.MonkeyPatch) -> None:
    lib = pin("lib==1.0")
    page = files("lib-1.0.tar.gz", "lib-1.0-cp311-cp311-win_amd64.whl")
    assert cl.verdict(lib, LINUX, page) == ("no compatible wheel (none for linux-x86_64); "
                                            "an sdist, but not in SDIST_ALLOWED")
    monkeypatch.setitem(cl.SDIST_ALLOWED, "lib", "pure Python, setuptools only")
    assert cl.verdict(lib, LINUX, page) is None
    assert cl.verdict(lib, LINUX, files("lib-0.9.tar.gz")) == "version 1.0 not on the index"


def test_conflicting_pins() -> None:
    split = cl.parse_lock("s==2.10 ; python_full_version < '3.11.5'\n"
                          "s==4.1 ; python_full_version >= '3.11.5'\n", "a")
    assert not cl.conflicts(split, LINUX)
    twice = cl.parse_lock("s==2.10\ns==4.1 ; sys_platform == 'darwin'\n", "a")
    assert not cl.conflicts(twice, LINUX) and "s pinned twice (2.10, 4.1)" in cl.conflicts(twice, MAC)[0]


def test_parse_pages() -> None:
    body = json.dumps({"files": [{"filename": "a-1.0-py3-none-any.whl", "requires-python": ">=3.9"}]}).encode()
    assert cl.parse_page(body, "application/vnd.pypi.simple.v1+json") == files("a-1.0-py3-none-any.whl",
                                                                               requires_python=">=3.9")
    html = b'<a href="../../f/a-1.0.tar.gz#sha256=00" data-requires-python="&gt;=3.10">a-1.0.tar.gz</a>'
    assert cl.parse_page(html, "text/html") == files("a-1.0.tar.gz", requires_python=">=3.10")


def test_index_url_from_pip(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIP_INDEX_URL", "https://mirror.example/simple")
    assert cl.pip_index_url() == "https://mirror.example/simple"


def test_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    lock = tmp_path / "r.lock"
    lock.write_text("a==1.0\nb==2.0 ; sys_platform == 'linux'\n")
    pages = {"a": files("a-1.0-py3-none-any.whl"), "b": files("b-2.0-cp311-cp311-manylinux_2_17_x86_64.whl")}
    monkeypatch.setattr(cl, "fetch_project", lambda _url, name: pages[name])
    assert cl.run([lock], "idx", cl.targets()) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == ("FAIL r.lock: b==2.0 on linux-x86_64 py3.12: "
                      "no compatible wheel (has cp311-manylinux_2_17_x86_64)")
    assert len(out) == 6 and "15 pin × target checks (3 not selected by markers), 5 failed" in out[-1]

    def unreachable(_url: str, name: str) -> None:
        raise cl.IndexUnreachable(f"idx/{name}/: refused")

    monkeypatch.setattr(cl, "fetch_project", unreachable)
    assert cl.run([lock], "idx", cl.targets()) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    assert "cannot read the package index" in captured.err


def test_real_locks_agree() -> None:
    """Both locks parse; every shared pin has one version; on no target is a name pinned twice."""
    runtime = cl.parse_lock((ROOT / "requirements.lock").read_text(), "requirements.lock")
    test = cl.parse_lock((ROOT / "requirements-test.lock").read_text(), "requirements-test.lock")
    def key(p: Any) -> tuple[Any, ...]:
        return (p.name, p.version, str(p.marker))

    assert {key(p) for p in runtime} <= {key(p) for p in test}
    for target in TARGETS.values():
        assert cl.conflicts(runtime + test, target) == []
        assert any(p.name == "torch" for p in runtime if cl.admitted(p, target))
