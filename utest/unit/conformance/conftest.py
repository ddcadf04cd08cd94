"""The conformance matrix tests import their markup helpers as a plain module (importlib mode)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
