"""A whole run folder checked (``overconf verify RUN``): every record file valid, its SHA-256 and its stored
configuration what ``run.json`` recorded, no recorded file missing and no unrecorded one."""

from __future__ import annotations

from pathlib import Path

from overconf.errors import RecordError
from overconf.store.identity import differing_keys
from overconf.store.integrity import RECORD_HASHES, changed_records
from overconf.store.parquet import read_cell
from overconf.store.run_json import MANIFEST, read_manifest
from overconf.store.validation import check_record_file


def verify_run(out: Path) -> tuple[int, list[str]]:
    """Check a whole run folder: ``run.json`` readable and recording hashes, every record file valid
    (:func:`overconf.store.validation.check_record_file`), its SHA-256 and its stored configuration as
    ``run.json`` recorded them, no recorded file missing and no unrecorded one. Returns (files checked,
    problems: one line each)."""
    out = Path(out)
    if not out.is_dir():
        raise RecordError(f"{out}: no such run folder", hint="give a folder written by overconf run / demo / evaluate")
    problems: list[str] = []
    try:
        manifest = read_manifest(out)
    except RecordError as exc:
        return 0, [exc.message]
    if not manifest:
        problems.append(f"{out / MANIFEST}: missing")
    recorded = manifest.get(RECORD_HASHES)
    if manifest and not isinstance(recorded, dict):
        problems.append(f"{out / MANIFEST}: records no SHA-256 of the record files (written by an older overconf; "
                        "rerun its command to record them)")
        recorded = {}
    recorded = recorded or {}
    configs = {c.get("file"): c.get("config") for c in manifest.get("cells", []) if isinstance(c, dict)}
    files = sorted(out.glob("records/*/*.parquet"))
    valid = []
    for path in files:
        name = str(path.relative_to(out))
        try:
            check_record_file(path)
        except RecordError as exc:
            problems.append(exc.message)
            continue
        valid.append(path)
        if name not in recorded and recorded:
            problems.append(f"{path}: not recorded in run.json (copied in, or written by another run)")
        expected = configs.get(name)
        if isinstance(expected, dict):
            keys = differing_keys((read_cell(path) or {}).get("config"), expected)
            if keys:
                problems.append(f"{path}: its configuration differs from run.json's in {', '.join(keys[:4])}")
    problems += [f"{path}: {why}" for path, why in changed_records(out, valid, manifest)]
    present = {str(p.relative_to(out)) for p in files}
    problems += [f"{out / name}: recorded in run.json but missing" for name in sorted(set(recorded) - present)]
    return len(files), problems
