"""``python -m SockerlessLibrary.sweep``: the out-of-band sweeper (see ``aws/sweep.py``)."""

from __future__ import annotations

import sys

from .aws.sweep import main

if __name__ == "__main__":
    sys.exit(main())
