"""The simulator's IAM mode as a separate process: where the kit user's keys go, and where not.

The keys are in a 0600 file of the simulator's private work directory (gone after it stops) and,
through ``with_simulator``, in the environment of the command it runs; never in the ready line,
the simulator's log, ``/_sim/info`` or ``/_sim/stats``.
"""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from sockerless_sim.launcher import SimulatorProcess, SimulatorStartError
from sockerless_sim.unix_http import UnixHTTPConnection

ROOT = Path(__file__).resolve().parents[3]
POLICY = ROOT / "iam" / "sockerless-kit-policy.json"
KIT_USER = "sockerless-kit"

pytestmark = pytest.mark.timeout(90)

# Run by with_simulator: asks STS who it is, and keeps its keys for the test to look for.
CHILD = """
import json, os, sys
from pathlib import Path
import boto3
keys = {name: os.environ[name] for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
Path(sys.argv[1]).write_text(json.dumps(keys))
endpoint = os.environ["SOCKERLESS_ENDPOINT_URL"]
sts = boto3.client("sts", endpoint_url=endpoint, region_name="us-east-1")
print(sts.get_caller_identity()["Arn"])
"""


def get(socket_path: str, path: str) -> str:
    connection = UnixHTTPConnection(socket_path, 10.0)
    try:
        connection.request("GET", path)
        return connection.getresponse().read().decode()
    finally:
        connection.close()


def test_the_kit_keys_are_in_a_private_file_and_nowhere_else() -> None:
    simulator = SimulatorProcess.start(iam_policy=str(POLICY), ready_timeout=60.0)
    try:
        info = simulator.info
        assert info.iam_kit_user == KIT_USER
        assert info.iam_credentials_file is not None
        keys_file = Path(info.iam_credentials_file)
        assert stat.S_IMODE(keys_file.stat().st_mode) == 0o600
        keys = info.kit_credentials()
        assert keys is not None
        assert keys[0] != "testing"
        environment = info.target_environment()
        assert (environment["AWS_ACCESS_KEY_ID"], environment["AWS_SECRET_ACCESS_KEY"]) == keys
        public = [
            get(info.socket_path, "/_sim/info"),
            get(info.socket_path, "/_sim/stats"),
            repr(info),
        ]
        stats = json.loads(public[1])["aws"]["iam"]
        assert stats["enforced"] is True
    finally:
        simulator.stop()
    public.append(simulator.stderr_tail())  # the log, ready line included
    for text in public:
        for key in keys:
            assert key not in text
    assert not keys_file.exists(), "the keys must go with the simulator"


def test_with_simulator_runs_the_command_as_the_kit_user(tmp_path: Path) -> None:
    keys_seen = tmp_path / "keys.json"
    stats_file = tmp_path / "stats.json"
    completed = subprocess.run(
        [
            *[sys.executable, "-m", "sockerless_sim.with_simulator"],
            *["--iam-policy", str(POLICY), "--stats-file", str(stats_file)],
            *["--", sys.executable, "-c", CHILD, str(keys_seen)],
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=80,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert completed.stdout.strip().endswith(f":user/{KIT_USER}")
    keys = json.loads(keys_seen.read_text())
    assert keys["AWS_ACCESS_KEY_ID"] != "testing"
    stats_text = stats_file.read_text()
    kit = json.loads(stats_text)["aws"]["iam"]["users"][KIT_USER]
    assert kit["calls"] == {"sts:GetCallerIdentity": 1}
    for key in keys.values():
        assert key not in stats_text
        assert key not in completed.stdout + completed.stderr


def test_a_policy_that_is_not_json_stops_the_start(tmp_path: Path) -> None:
    broken = tmp_path / "policy.json"
    broken.write_text('{"Statement": [')
    with pytest.raises(SimulatorStartError, match="is not JSON"):
        SimulatorProcess.start(iam_policy=str(broken), ready_timeout=60.0)
