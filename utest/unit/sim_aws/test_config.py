"""SimConfig: environment, CLI overrides, profiles, quirks, lies."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import sockerless_sim
from sockerless_sim.__main__ import build_config, parse_args
from sockerless_sim.config import LIES, SimConfig
from sockerless_sim.quirks import QUIRK_PROFILES, QUIRKS

SIMULATOR_PATH = str(Path(sockerless_sim.__file__).resolve().parents[1])


def test_defaults() -> None:
    config = SimConfig()
    assert (config.region, config.cluster, config.log_group) == (
        "us-east-1",
        "sockerless-sim",
        "/sockerless",
    )
    assert config.subnets == [] and config.security_groups == []
    assert config.stop_timeout_seconds == 30.0
    assert config.workdir is None  # serve() makes one; a config alone makes no directory


def test_from_env_reads_the_sockerless_and_aws_variables() -> None:
    env = {
        "SOCKERLESS_ECS_CLUSTER": "c1",
        "SOCKERLESS_ECS_SUBNETS": "subnet-a, subnet-b",
        "SOCKERLESS_ECS_SECURITY_GROUP": "sg-1",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "SOCKERLESS_ECS_LOG_GROUP": "/logs",
        "SOCKERLESS_SIM_PROFILE": "fargate",
        "SOCKERLESS_SIM_TIME_SCALE": "0.1",
        "SOCKERLESS_SIM_QUIRKS": "ms-timestamps,command-echo-event",
    }

    config = SimConfig.from_env(env)

    assert config.cluster == "c1"
    assert config.subnets == ["subnet-a", "subnet-b"]
    assert config.security_groups == ["sg-1"]
    assert config.region == "eu-west-1"
    assert config.log_group == "/logs"
    assert config.profile == "fargate"
    assert config.time_scale == 0.1
    assert config.quirks == frozenset({"ms-timestamps", "command-echo-event"})


def test_plural_security_groups_and_aws_region_win() -> None:
    env = {
        "SOCKERLESS_ECS_SECURITY_GROUPS": "sg-1,sg-2",
        "SOCKERLESS_ECS_SECURITY_GROUP": "sg-ignored",
        "AWS_REGION": "us-west-2",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }
    config = SimConfig.from_env(env)
    assert config.security_groups == ["sg-1", "sg-2"]
    assert config.region == "us-west-2"


def test_overrides_win_and_none_means_unset() -> None:
    config = SimConfig.from_env(
        {"SOCKERLESS_ECS_CLUSTER": "from-env", "SOCKERLESS_SIM_PROFILE": "fargate"},
        cluster="from-cli",
        profile=None,
        seed=3,
    )
    assert config.cluster == "from-cli"
    assert config.profile == "fargate"
    assert config.seed == 3


@pytest.mark.parametrize(
    ("env", "overrides", "message"),
    [
        ({"SOCKERLESS_SIM_QUIRKS": "no-such-quirk"}, {}, "unknown quirks"),
        ({"SOCKERLESS_SIM_LIES": "no-such-lie"}, {}, "unknown lies"),
        ({"SOCKERLESS_SIM_LIES": "ms-timestamps"}, {}, "unknown lies"),  # a quirk is no lie
        ({"SOCKERLESS_SIM_QUIRKS": "ip-not-eni"}, {}, "unknown quirks"),  # nor a lie a quirk
        (
            {"SOCKERLESS_SIM_LIES": "logs-not-cloudwatch,log-timestamps-not-cloudwatch"},
            {},
            "exclude each other",
        ),
        ({"SOCKERLESS_SIM_PROFILE": "slow"}, {}, "unknown profile"),
        ({"SOCKERLESS_SIM_TIME_SCALE": "fast"}, {}, "must be a number"),
        ({"SOCKERLESS_SIM_SEED": "lucky"}, {}, "SOCKERLESS_SIM_SEED must be an integer"),
        ({}, {"time_scale": 0}, "time_scale must be positive"),
        ({}, {"colour": "blue"}, "unknown SimConfig fields"),
    ],
)
def test_bad_settings_are_refused(
    env: dict[str, str], overrides: dict[str, object], message: str
) -> None:
    with pytest.raises((ValueError, TypeError), match=message):
        SimConfig.from_env(env, **overrides)


def test_instant_profile_delays_scale() -> None:
    delays = SimConfig(time_scale=2.0).delays()
    assert delays.provisioning() == pytest.approx(0.1)
    assert delays.pending() == pytest.approx(0.1)
    assert delays.deprovisioning() == pytest.approx(0.1)
    assert delays.log_delivery() == pytest.approx(1.0)


def test_fargate_profile_draws_within_ranges_and_repeats_with_a_seed() -> None:
    config = SimConfig(profile="fargate", time_scale=0.5, seed=11)
    first, second = config.delays(), config.delays()
    draws = [
        (first.provisioning(), first.pending(), first.deprovisioning(), first.log_delivery())
        for _ in range(50)
    ]
    assert draws[0] == (
        second.provisioning(),
        second.pending(),
        second.deprovisioning(),
        second.log_delivery(),
    )
    for provisioning, pending, deprovisioning, log_delivery in draws:
        assert 2.5 <= provisioning <= 10.0
        assert 2.5 <= pending <= 12.5
        assert 5.0 <= provisioning + pending <= 22.5  # 10-45 s total, halved
        assert 1.0 <= deprovisioning <= 2.5
        assert 2.5 <= log_delivery <= 7.5
    assert len({d[0] for d in draws}) > 1


def test_a_seed_from_the_environment_repeats_the_latency_draws() -> None:
    # A run started with SOCKERLESS_SIM_SEED sees the same fargate-profile delays every time.
    env = {"SOCKERLESS_SIM_PROFILE": "fargate", "SOCKERLESS_SIM_SEED": "7"}
    first = SimConfig.from_env(env).delays()
    second = SimConfig.from_env(env).delays()
    assert SimConfig.from_env(env).seed == 7
    assert [first.provisioning() for _ in range(5)] == [second.provisioning() for _ in range(5)]


def test_a_seeded_draw_repeats_whatever_other_keys_draw_meanwhile() -> None:
    # A suite alone and the same suite beside others against one simulator (pabot) see the same
    # delays: a draw depends on the seed, its kind, its key and that key's earlier draws only.
    alone = SimConfig(profile="fargate", time_scale=0.1, seed=7).delays()
    beside = SimConfig(profile="fargate", time_scale=0.1, seed=7).delays()
    drawn_alone = [alone.provisioning(key="echo") for _ in range(3)]
    drawn_beside = []
    for _ in range(3):
        beside.provisioning(key="tail -f")
        drawn_beside.append(beside.provisioning(key="echo"))
        beside.provisioning(key="")
    assert drawn_beside == drawn_alone
    assert len(set(drawn_alone)) == 3  # a key's second task draws anew
    assert alone.provisioning(key="other") != SimConfig(
        profile="fargate", time_scale=0.1, seed=8
    ).delays().provisioning(key="other")
    assert alone.pending(key="echo") != alone.provisioning(key="echo")  # kinds draw apart


def test_a_seeded_draw_is_the_same_in_every_process() -> None:
    # The key is hashed by the RNG's str seeding (SHA-512), not by hash(), which
    # PYTHONHASHSEED changes from one process to the next.
    script = (
        "from sockerless_sim.config import SimConfig;"
        "print(SimConfig(profile='fargate', seed=7).delays().pending(key='busybox\\x1fecho'))"
    )
    printed = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": SIMULATOR_PATH},
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout
        for hash_seed in ("1", "2")
    }
    expected = SimConfig(profile="fargate", seed=7).delays().pending(key="busybox\x1fecho")
    assert printed == {f"{expected}\n"}


def test_unseeded_draws_ignore_the_key() -> None:
    delays = SimConfig(profile="fargate", time_scale=0.1).delays()
    assert len({delays.provisioning(key="echo") for _ in range(5)}) > 1


def test_each_draw_is_recorded_as_a_delay_beginning_now() -> None:
    config = SimConfig(profile="fargate", time_scale=0.1, seed=7)
    delays = config.delays()
    before = time.time()
    drawn = [delays.provisioning(), delays.pending(), delays.deprovisioning()]
    drawn.append(delays.log_delivery())
    after = time.time()
    records = config.delay_log.records()
    kinds = ["provisioning", "pending", "deprovisioning", "log_delivery"]
    assert [record["kind"] for record in records] == kinds
    assert [record["seconds"] for record in records] == pytest.approx(drawn, abs=1e-6)
    assert all(before - 1e-3 <= record["started"] <= after + 1e-3 for record in records)


def test_estimates_drawn_without_recording_are_not_delays() -> None:
    config = SimConfig()
    estimate = config.delays(record=False)
    assert estimate.log_delivery() == pytest.approx(0.5)
    assert config.delay_log.records() == []


def test_lies_come_from_the_environment_as_a_comma_list() -> None:
    config = SimConfig.from_env({"SOCKERLESS_SIM_LIES": " ip-not-eni,, no-task-definition "})
    assert config.lies == frozenset({"ip-not-eni", "no-task-definition"})
    assert config.quirks == frozenset()
    assert SimConfig().lies == frozenset()
    assert not LIES & QUIRKS


def test_an_unknown_lie_names_every_known_one() -> None:
    with pytest.raises(ValueError, match="unknown lies") as refused:
        SimConfig(lies=frozenset({"fibbing"}))
    for lie in LIES:
        assert lie in str(refused.value)


def test_lies_on_the_command_line_win_over_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SOCKERLESS_SIM_LIES", "ip-not-eni")
    args = parse_args(
        ["--socket", "/tmp/x.sock", "--lie", "no-task-definition", "--lie", "ip-not-eni"]
    )
    assert build_config(args).lies == frozenset({"no-task-definition", "ip-not-eni"})
    assert build_config(parse_args(["--socket", "/tmp/x.sock"])).lies == frozenset({"ip-not-eni"})
    with pytest.raises(SystemExit):
        parse_args(["--socket", "/tmp/x.sock", "--lie", "fibbing"])


def test_start_before_running_keeps_each_early_phase_at_least_a_second() -> None:
    honest = SimConfig(time_scale=0.2).delays()
    lying = SimConfig(time_scale=0.2, lies=frozenset({"start-before-running"})).delays()
    assert honest.provisioning() == pytest.approx(0.01)
    assert (lying.provisioning(), lying.pending()) == (1.0, 1.0)
    assert lying.deprovisioning() == pytest.approx(0.01)
    assert lying.log_delivery() == pytest.approx(0.1)
    slow = SimConfig(profile="fargate", lies=frozenset({"start-before-running"})).delays()
    assert slow.provisioning() >= 5.0  # a floor, not a cap


# -- quirks and the sockerless profile -----------------------------------------------------


def test_the_sockerless_profile_expands_to_every_observed_quirk() -> None:
    config = SimConfig.from_env({"SOCKERLESS_SIM_QUIRKS": "sockerless"})
    assert config.quirks == QUIRK_PROFILES["sockerless"] == QUIRKS
    assert "sockerless" not in config.quirks
    assert SimConfig(quirks=frozenset({"sockerless", "ms-timestamps"})).quirks == QUIRKS


def test_a_quirk_profile_is_accepted_on_the_command_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOCKERLESS_SIM_QUIRKS", "ms-timestamps")
    args = parse_args(["--socket", "/tmp/x.sock", "--quirk", "sockerless"])
    assert build_config(args).quirks == QUIRKS


def test_an_unknown_quirk_names_every_known_quirk_and_profile() -> None:
    with pytest.raises(ValueError, match="unknown quirks") as refused:
        SimConfig(quirks=frozenset({"sockerless", "docker"}))
    message = str(refused.value)
    assert "'docker'" in message
    for name in (*QUIRKS, *QUIRK_PROFILES):
        assert name in message
    with pytest.raises(SystemExit):
        parse_args(["--socket", "/tmp/x.sock", "--quirk", "docker"])
