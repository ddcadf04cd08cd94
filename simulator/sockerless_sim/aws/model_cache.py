"""Parse each botocore data file once per process, however many sessions moto makes.

moto builds fresh boto3 sessions in several of its modules at import time, and each session's
loader parses the same JSON again: the EC2 service model six times, about a second of the
simulator's start-up. Sharing the parsed files is safe because botocore only reads them, apart
from merging the SDK "extras" into a service model, and that merge is idempotent.

This wraps a botocore internal (``JSONFileLoader.load_file``), so botocore is pinned in
requirements-simulator.txt (the kit's simulator extra) and the wrapper refuses to install on any
other version: an upgrade fails loudly.
"""

from __future__ import annotations

import inspect
import threading
from typing import Any

import botocore
from botocore.loaders import JSONFileLoader

REQUIRED_BOTOCORE_VERSION = "1.44.5"
_SHARED_MARK = "_sockerless_sim_shared"


class BotocoreInternalsChanged(RuntimeError):
    """botocore differs from the version whose loader the simulator wraps."""


def find_problems() -> list[str]:
    """Every mismatch between installed botocore and what the wrapper expects (empty when fine)."""
    problems = []
    if botocore.__version__ != REQUIRED_BOTOCORE_VERSION:
        problems.append(
            f"botocore {botocore.__version__} is installed, the simulator wraps "
            f"{REQUIRED_BOTOCORE_VERSION}'s loader "
            "(pinned by the kit's simulator extra, requirements-simulator.txt)"
        )
    load_file = getattr(JSONFileLoader, "load_file", None)
    if load_file is None:
        problems.append("botocore.loaders.JSONFileLoader.load_file is missing")
    elif list(inspect.signature(load_file).parameters) != ["self", "file_path"]:
        problems.append("botocore.loaders.JSONFileLoader.load_file(self, file_path) changed")
    return problems


def share_parsed_models() -> None:
    """Make every botocore loader in this process share one parse of each data file."""
    if getattr(JSONFileLoader.load_file, _SHARED_MARK, False):
        return
    problems = find_problems()
    if problems:
        raise BotocoreInternalsChanged(
            "botocore internals changed; cannot share parsed models:\n  - "
            + "\n  - ".join(problems)
        )
    parse = JSONFileLoader.load_file
    parsed: dict[str, Any] = {}
    lock = threading.Lock()

    def load_file(self: JSONFileLoader, file_path: str) -> Any:
        with lock:
            if file_path in parsed:
                return parsed[file_path]
        data = parse(self, file_path)
        if data is None:
            return None  # not found here; the loader tries its next search path
        with lock:
            return parsed.setdefault(file_path, data)

    setattr(load_file, _SHARED_MARK, True)
    JSONFileLoader.load_file = load_file
