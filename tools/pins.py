"""Print the ``name==version`` pins of a ``pip install --dry-run --report`` file, one a line, sorted.

Used by ``make lock``; the project itself (installed editable) is left out.
"""

from __future__ import annotations

import json
import sys
from typing import Any


def pins(report: dict[str, Any]) -> list[str]:
    """``name==version`` for every distribution pip would install, except ``overconf``, sorted by name."""
    found = {(i["metadata"]["name"], i["metadata"]["version"]) for i in report["install"]}
    return [f"{name}=={version}" for name, version in sorted(found, key=lambda nv: nv[0].lower()) if name != "overconf"]


if __name__ == "__main__":
    with open(sys.argv[1]) as handle:
        print("\n".join(pins(json.load(handle))))
