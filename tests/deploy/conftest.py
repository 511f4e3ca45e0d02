"""Fixtures of the compose-stack tests; helpers live in compose_stack.py."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.append(str(Path(__file__).resolve().parent))
