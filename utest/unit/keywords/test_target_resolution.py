"""Target choice, skip decision and AWS configuration for each environment combination."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from SockerlessLibrary.aws.config import AwsConfig
from SockerlessLibrary.aws.credentials import credentials_available
from SockerlessLibrary.target import (
    EMBEDDED,
    SOCKERLESS,
    choose_target,
    should_skip_for_credentials,
    simulator_options,
)

KEYS = {"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret"}


@pytest.mark.parametrize(
    ("host", "env", "kind", "address", "skip"),
    [
        (None, {}, EMBEDDED, None, False),
        (None, KEYS, EMBEDDED, None, False),
        (None, {"SOCKERLESS_HOST": "unix:///s.sock"}, SOCKERLESS, "unix:///s.sock", True),
        (None, {"SOCKERLESS_ECS_SOCKET": "/e.sock"}, SOCKERLESS, "/e.sock", True),
        (
            None,
            {"SOCKERLESS_HOST": "unix:///h.sock", "SOCKERLESS_ECS_SOCKET": "/e.sock"},
            SOCKERLESS,
            "unix:///h.sock",
            True,
        ),
        (None, {"SOCKERLESS_HOST": "/s.sock", **KEYS}, SOCKERLESS, "/s.sock", False),
        (None, {"SOCKERLESS_HOST": "/s.sock", "AWS_PROFILE": "ci"}, SOCKERLESS, "/s.sock", False),
        (
            None,
            {"SOCKERLESS_HOST": "/s.sock", "AWS_ACCESS_KEY_ID": "only-the-id"},
            SOCKERLESS,
            "/s.sock",
            True,
        ),
        ("tcp://127.0.0.1:2375", {}, SOCKERLESS, "tcp://127.0.0.1:2375", True),
        (
            "tcp://127.0.0.1:2375",
            {"SOCKERLESS_HOST": "/other"},
            SOCKERLESS,
            "tcp://127.0.0.1:2375",
            True,
        ),
        (None, {"SOCKERLESS_HOST": ""}, EMBEDDED, None, False),
    ],
)
def test_target_choice_and_skip(
    host: str | None, env: dict[str, str], kind: str, address: str | None, skip: bool
) -> None:
    choice = choose_target(host, env)
    assert choice.kind == kind
    assert choice.host == address
    assert should_skip_for_credentials(choice, env) is skip


@pytest.mark.parametrize(
    ("env", "available"),
    [
        ({}, False),
        (KEYS, True),
        ({"AWS_ACCESS_KEY_ID": "x"}, False),
        ({"AWS_SECRET_ACCESS_KEY": "x"}, False),
        ({"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "x"}, False),
        ({"AWS_PROFILE": "dev"}, True),
        ({"AWS_PROFILE": ""}, False),
    ],
)
def test_credentials_rule_of_the_spec(env: dict[str, str], available: bool) -> None:
    assert credentials_available(env) is available


def test_aws_config_defaults() -> None:
    config = AwsConfig.from_env({})
    assert (config.region, config.cluster, config.log_group) == (
        "us-east-1",
        "sockerless",
        "/sockerless",
    )
    assert config.endpoint_url is None
    assert (config.subnets, config.security_groups) == ([], [])
    assert config.credentials == "missing"


@dataclass
class Case:
    env: dict[str, str]
    field: str
    expected: object


@pytest.mark.parametrize(
    "case",
    [
        Case({"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "us-west-2"}, "region", "eu-west-1"),
        Case({"AWS_DEFAULT_REGION": "us-west-2"}, "region", "us-west-2"),
        Case(
            {"SOCKERLESS_ENDPOINT_URL": "http://127.0.0.1:4566", "AWS_ENDPOINT_URL": "http://x"},
            "endpoint_url",
            "http://127.0.0.1:4566",
        ),
        Case(
            {"AWS_ENDPOINT_URL": "http://127.0.0.1:5000"}, "endpoint_url", "http://127.0.0.1:5000"
        ),
        Case({"SOCKERLESS_ECS_CLUSTER": "sim-cluster"}, "cluster", "sim-cluster"),
        Case(
            {"SOCKERLESS_ECS_SUBNETS": "subnet-a, subnet-b,,"}, "subnets", ["subnet-a", "subnet-b"]
        ),
        Case({"SOCKERLESS_ECS_SECURITY_GROUP": "sg-1"}, "security_groups", ["sg-1"]),
        Case({"SOCKERLESS_ECS_SECURITY_GROUPS": "sg-1,sg-2"}, "security_groups", ["sg-1", "sg-2"]),
        Case(
            {
                "SOCKERLESS_ECS_SECURITY_GROUP": "sg-single",
                "SOCKERLESS_ECS_SECURITY_GROUPS": "sg-plural",
            },
            "security_groups",
            ["sg-plural"],
        ),
        Case({"SOCKERLESS_ECS_LOG_GROUP": "/team/containers"}, "log_group", "/team/containers"),
        Case(KEYS, "credentials", "available"),
        Case({"AWS_PROFILE": "p"}, "credentials", "available"),
    ],
    ids=lambda case: f"{case.field}-{'-'.join(case.env)}",
)
def test_aws_config_from_environment(case: Case) -> None:
    assert getattr(AwsConfig.from_env(case.env), case.field) == case.expected


def test_simulator_config_and_secret_kept_out_of_repr() -> None:
    @dataclass
    class Info:
        aws_endpoint_url: str = "http://127.0.0.1:1234"
        region: str = "us-east-1"
        cluster: str = "sockerless-sim"
        subnets: list[str] | None = None
        security_groups: list[str] | None = None
        log_group: str = "/sockerless"

    info = Info(subnets=["subnet-1"], security_groups=["sg-1"])
    config = AwsConfig.from_simulator(info)  # type: ignore[arg-type]
    assert config.credentials == "simulator"
    assert config.endpoint_url == "http://127.0.0.1:1234"
    assert config.static_credentials == ("testing", "testing")
    assert "testing" not in repr(config)
    assert "testing" not in str(config.describe())


def test_boto3_client_settings() -> None:
    config = AwsConfig(region="eu-central-1", endpoint_url="http://127.0.0.1:9")
    client_config = config.client_config()
    assert client_config.retries == {"mode": "standard", "total_max_attempts": 5}
    assert (client_config.connect_timeout, client_config.read_timeout) == (5, 10)
    client = config.client("ecs")
    assert client.meta.region_name == "eu-central-1"
    assert client.meta.endpoint_url == "http://127.0.0.1:9"


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        ((None, None, None), {}, ("instant", 1.0, ())),
        (
            (None, None, None),
            {
                "SOCKERLESS_SIM_PROFILE": "fargate",
                "SOCKERLESS_SIM_TIME_SCALE": "0.1",
                "SOCKERLESS_SIM_QUIRKS": "ms-timestamps, ip-in-networks-only",
            },
            ("fargate", 0.1, ("ms-timestamps", "ip-in-networks-only")),
        ),
        (
            ("instant", 2.0, ""),
            {
                "SOCKERLESS_SIM_PROFILE": "fargate",
                "SOCKERLESS_SIM_TIME_SCALE": "0.1",
                "SOCKERLESS_SIM_QUIRKS": "ms-timestamps",
            },
            ("instant", 2.0, ()),
        ),
    ],
)
def test_simulator_options_import_arguments_win_over_environment(
    args: tuple[str | None, float | None, str | None],
    env: dict[str, str],
    expected: tuple[str, float, tuple[str, ...]],
) -> None:
    options = simulator_options(*args, env)
    assert (options.profile, options.time_scale, options.quirks) == expected


def test_bad_time_scale_is_reported() -> None:
    with pytest.raises(ValueError, match="SOCKERLESS_SIM_TIME_SCALE must be a number, got 'fast'"):
        simulator_options(None, None, None, {"SOCKERLESS_SIM_TIME_SCALE": "fast"})
