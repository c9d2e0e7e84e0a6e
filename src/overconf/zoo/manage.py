"""What ``overconf zoo list|fetch|verify`` do: presence, downloads and checks of the zoo's files."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from overconf.errors import OverconfError
from overconf.files import sha256_file
from overconf.zoo.catalogue import Catalogue, ZooModel
from overconf.zoo.fetch import Source, download, read_checksums
from overconf.zoo.loaders import load_model, sources


@dataclass
class ModelStatus:
    """One model's files: ``state`` is ``present``, ``partial`` (some files) or ``missing``."""

    model: ZooModel
    files: list[Source]
    present: list[bool]

    @property
    def state(self) -> str:
        if all(self.present):
            return "present"
        return "partial" if any(self.present) else "missing"


def status(catalogue: Catalogue, models_dir: Path) -> list[ModelStatus]:
    """The state of every model of ``catalogue`` under ``models_dir`` (no hashing, no loading)."""
    out = []
    for model in catalogue.models():
        files = sources(model, models_dir)
        out.append(ModelStatus(model, files, [s.path.is_file() for s in files]))
    return out


def fetch(
    catalogue: Catalogue,
    models_dir: Path,
    *,
    progress: bool = True,
    on_done: Callable[[Source, str], None] | None = None,
) -> list[tuple[Source, str]]:
    """Download every missing file of ``catalogue``; ``(source, "fetched" | "present" | error message)``.

    A failure is reported and the next file tried, so one unavailable file does not stop the rest.
    """
    results = []
    for model in catalogue.models():
        for source in sources(model, models_dir):
            if source.path.is_file():
                outcome = "present"
            elif not source.url:
                outcome = f"no URL known for {source.path}: put the file there yourself"
            else:
                try:
                    download(source, models_dir, progress=progress)
                    outcome = "fetched"
                except OverconfError as exc:
                    outcome = str(exc)
            results.append((source, outcome))
            if on_done is not None:
                on_done(source, outcome)
    return results


@dataclass
class Verification:
    """``overconf zoo verify`` for one model: file states, hash checks and whether it loads."""

    model: ZooModel
    problems: list[str] = field(default_factory=list)
    hashes: list[str] = field(default_factory=list)
    loaded: bool | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(catalogue: Catalogue, models_dir: Path, *, load: bool = True) -> list[Verification]:
    """Per model: files present, SHA-256 equal to the recorded one (``checksums.json``), and it loads.

    Every model is checked and reported, whatever another one's file holds."""
    recorded = read_checksums(models_dir)
    results = []
    for model in catalogue.models():
        check = Verification(model)
        for source in sources(model, models_dir):
            if not source.path.is_file():
                check.problems.append(f"missing {source.path}")
                continue
            try:
                digest = sha256_file(source.path)
            except OSError as exc:
                check.problems.append(f"{source.path}: cannot be read ({exc.strerror or exc})")
                continue
            check.hashes.append(digest)
            try:
                key = source.path.resolve().relative_to(Path(models_dir).resolve()).as_posix()
            except ValueError:
                key = str(source.path)
            expected = (recorded.get(key) or {}).get("sha256") or source.sha256
            if expected and not digest.startswith(expected.lower()):
                check.problems.append(f"{source.path}: SHA-256 {digest[:12]}… differs from the recorded {expected[:12]}…")
        if load and not check.problems:
            try:
                load_model(model, models_dir)
                check.loaded = True
            except OverconfError as exc:
                check.loaded = False
                check.problems.append(str(exc))
            except Exception as exc:  # noqa: BLE001  one model failing must not stop the check of the others
                check.loaded = False
                check.problems.append(f"does not load: {type(exc).__name__}: {exc}")
        results.append(check)
    return results
