"""``python -m sockerless_ecs_acceptance``: the ``sockerless-ecs-acceptance`` command."""

from __future__ import annotations

import sys

from .command import main

if __name__ == "__main__":
    sys.exit(main())
