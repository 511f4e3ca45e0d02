"""Print the hash of pyproject.toml's dependency lists (what the lock files pin).

scripts/lock.sh writes it into the lock files' first line; scripts/setup.sh
compares it to tell a stale lock from a current one. Only the dependency lists
count, so editing tool settings in pyproject.toml does not stale the lock.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tomllib
from pathlib import Path


def deps_hash(pyproject: Path) -> str:
    project = tomllib.loads(pyproject.read_text("utf-8"))["project"]
    deps = {
        "dependencies": sorted(project.get("dependencies", [])),
        "optional": {
            k: sorted(v) for k, v in project.get("optional-dependencies", {}).items()
        },
        "python": project.get("requires-python", ""),
    }
    return hashlib.sha256(json.dumps(deps, sort_keys=True).encode()).hexdigest()[:16]


if __name__ == "__main__":
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "pyproject.toml")
    print(deps_hash(path))
