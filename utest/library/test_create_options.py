"""The create body from keyword options: every option lands in its Docker field, the escape hatches
merge, and nothing is silently chosen, dropped or overridden."""

from __future__ import annotations

from typing import Any

import pytest

from SockerlessLibrary.create_options import (
    ConflictingOption,
    CreateOptions,
    UnknownOption,
    container_create_body,
    named_options,
    unknown_options_error,
    with_kit_labels,
)
from SockerlessLibrary.errors import ConfigurationError

KIT = {"sockerless-kit.run-id": "run-1", "sockerless-kit.project": "sockerless-ecs-acceptance"}


def body(command: tuple[str, ...] = (), **options: Any) -> dict[str, Any]:
    return container_create_body("alpine:latest", command, CreateOptions(**options), KIT)


def test_every_option_lands_in_its_docker_field() -> None:
    assert body(
        ("echo", "hi"),
        entrypoint=["/bin/sh", "-c"],
        env={"FOO": "bar", "N": 1},
        working_dir="/tmp",
        user="nobody",
        labels={"team": "qa"},
        stop_signal="SIGINT",
        stop_timeout=10,
        tty=True,
        open_stdin=True,
    ) == {
        "Image": "alpine:latest",
        "Cmd": ["echo", "hi"],
        "Entrypoint": ["/bin/sh", "-c"],
        "Env": ["FOO=bar", "N=1"],
        "WorkingDir": "/tmp",
        "User": "nobody",
        "Labels": {"team": "qa", **KIT},
        "StopSignal": "SIGINT",
        "StopTimeout": 10,
        "Tty": True,
        "OpenStdin": True,
        "AttachStdout": True,
        "AttachStderr": True,
    }


def test_without_options_the_body_is_what_create_always_sent() -> None:
    assert body(("true",)) == {
        "Image": "alpine:latest",
        "Cmd": ["true"],
        "Tty": False,
        "AttachStdout": True,
        "AttachStderr": True,
        "Labels": KIT,
    }
    assert "Cmd" not in body()  # no command: the image's own


def test_an_entrypoint_string_is_one_word_and_env_may_be_a_list() -> None:
    made = body(entrypoint="/docker-entrypoint.sh", env=["A=1", "B=two words"])
    assert made["Entrypoint"] == ["/docker-entrypoint.sh"]
    assert made["Env"] == ["A=1", "B=two words"]


def test_config_and_host_config_are_merged_into_the_body() -> None:
    made = body(
        ("true",),
        env={"A": "1"},
        config={"Hostname": "box", "Labels": {"from-config": "yes"}, "Healthcheck": {"Test": []}},
        host_config={"Memory": 536870912, "NanoCpus": 250000000},
    )
    assert made["Hostname"] == "box"
    assert made["Healthcheck"] == {"Test": []}
    assert made["Labels"] == {"from-config": "yes", **KIT}  # the kit's labels are added there too
    assert made["HostConfig"] == {"Memory": 536870912, "NanoCpus": 250000000}
    assert made["Env"] == ["A=1"]
    as_json = body(config='{"Hostname": "box"}', host_config='{"Memory": 1}')
    assert (as_json["Hostname"], as_json["HostConfig"]) == ("box", {"Memory": 1})


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"env": {"A": "1"}, "config": {"Env": ["B=2"]}}, r"Env \(env=\)"),
        ({"working_dir": "/a", "config": {"WorkingDir": "/b"}}, r"WorkingDir \(working_dir=\)"),
        ({"labels": {"a": "1"}, "config": {"Labels": {"b": "2"}}}, r"Labels \(labels=\)"),
        ({"tty": False, "config": {"Tty": True}}, r"Tty \(tty=\)"),
        ({"config": {"Image": "busybox"}}, "config may not set Image"),
        ({"host_config": {"Memory": 1}, "config": {"HostConfig": {}}}, "HostConfig given twice"),
    ],
)
def test_a_field_given_twice_fails_instead_of_one_silently_winning(
    options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConflictingOption, match=message):
        body(**options)


def test_the_command_and_config_cmd_together_fail() -> None:
    with pytest.raises(ConflictingOption, match="Cmd given twice"):
        body(("echo",), config={"Cmd": ["true"]})
    assert body(config={"Cmd": ["true"]})["Cmd"] == ["true"]  # config may carry it alone


def test_the_kits_labels_cannot_be_overridden() -> None:
    with pytest.raises(ConflictingOption, match=r"sockerless-kit.run-id belong to the kit"):
        body(labels={"sockerless-kit.run-id": "someone-else"})
    with pytest.raises(ConflictingOption, match="belong to the kit"):
        with_kit_labels({"Labels": {"sockerless-kit.project": "x"}}, KIT)
    assert with_kit_labels({"Labels": dict(KIT)}, KIT)["Labels"] == KIT  # the same value is fine


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"labels": "team=qa"}, "labels must be a dictionary"),
        ({"env": "FOO=bar"}, "env must be a dictionary or a list"),
        ({"env": ["FOO"]}, "env items must read 'KEY=value'"),
        ({"config": "not json"}, "config must be a dictionary"),
        ({"host_config": [1]}, "host_config must be a dictionary"),
    ],
)
def test_a_value_of_the_wrong_shape_fails_naming_the_option(
    options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        body(**options)


def test_unknown_options_name_the_valid_ones_and_the_closest() -> None:
    error = unknown_options_error(
        "Create Container", {"workdir": "/tmp"}, ["working_dir", "env", "user"]
    )
    assert isinstance(error, UnknownOption)
    assert str(error) == (
        "Create Container got unknown option 'workdir=/tmp' (did you mean working_dir?): valid "
        "options are env, user, working_dir. A command word that contains '=' is written with "
        "a backslash, e.g. 'workdir\\=/tmp'"
    )
    several = str(unknown_options_error("K", {"a": 1, "envv": 2}, ["env"]))
    assert several.startswith("K got unknown options 'a=1', 'envv=2' (did you mean env?)")


def test_the_valid_options_are_the_keyword_only_parameters() -> None:
    def keyword(image: str, *command: str, env: str = "", name: str = "", **unknown: Any) -> None:
        del image, command, env, name, unknown

    assert named_options(keyword) == ("env", "name")
