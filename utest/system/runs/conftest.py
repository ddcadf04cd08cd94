"""The robot runs that ``tasks.py test`` runs as steps of their own, each judged here: the
helpers (``robot_runs.py``, ``utest/kit_environment.py``) are imported as plain modules."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
