"""The body of ``POST /containers/create`` from a keyword's options, and the checks of the values
that create and exec share (``env``, stop times).

An unknown option never gets here: the library refuses it before the keyword runs
(``listeners/argument_check.py``). A field given both as an option and in ``config`` is an error,
never a silent choice.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .encoding import command_list
from .errors import ConfigurationError


class ConflictingOption(ConfigurationError, ValueError):
    """The same create field given twice (an option and ``config``), or a kit label overridden."""

    ROBOT_SUPPRESS_NAME = True


def string_labels(labels: Any, what: str = "labels") -> dict[str, str]:
    """Labels as Docker's ``{"key": "value"}`` of strings; anything else is an error."""
    if not isinstance(labels, Mapping):
        raise ConfigurationError(
            f"{what} must be a dictionary (e.g. &{{labels}} with key=value items), got {labels!r}"
        )
    return {str(key): str(value) for key, value in labels.items()}


def environment(value: Any) -> list[str]:
    """``env`` of a create or an exec as Docker's ``["KEY=value", ...]``: one rule for both.

    A dictionary's values are sent as text; ``None`` is refused, since Docker reads a bare
    ``KEY`` as "remove KEY" and ``None`` as text would set ``KEY=None``. A list's items must
    read ``KEY=value``. A key must be non-empty and contain no ``=``."""
    if isinstance(value, Mapping):
        unset = [str(key) for key, item in value.items() if item is None]
        if unset:
            raise ConfigurationError(
                f"env value of {', '.join(unset)} is None: give a text (${{EMPTY}} for an "
                "empty one), or leave the variable out to not set it"
            )
        bad_keys = [str(key) for key in value if not str(key) or "=" in str(key)]
        if bad_keys:
            raise ConfigurationError(f"env names must be non-empty, without '=': {bad_keys!r}")
        return [f"{key}={item}" for key, item in value.items()]
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise ConfigurationError(
            f"env must be a dictionary or a list of 'KEY=value', got {value!r}"
        )
    bad = [
        item
        for item in value
        if not isinstance(item, str) or "=" not in item or item.startswith("=")
    ]
    if bad:
        raise ConfigurationError(f"env items must read 'KEY=value', got {bad!r}")
    return list(value)


def stop_seconds(value: int | None) -> int | None:
    """Seconds between the stop signal and the kill (Docker's ``t`` and ``StopTimeout``):
    ``0`` kills at once, a negative value is refused before anything is sent."""
    if value is None:
        return None
    seconds = int(value)
    if seconds < 0:
        raise ConfigurationError(
            f"stop_timeout must be 0 or more seconds (0 kills at once), got {seconds}: "
            "nothing was sent"
        )
    return seconds


def _entrypoint(value: Sequence[str] | str) -> list[str]:
    return command_list([value] if isinstance(value, str) else value, what="entrypoint")


# Option name -> the field of Docker's create body it sets, and how its value is encoded.
OPTION_FIELDS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "entrypoint": ("Entrypoint", _entrypoint),
    "env": ("Env", environment),
    "working_dir": ("WorkingDir", str),
    "user": ("User", str),
    "labels": ("Labels", string_labels),
    "stop_signal": ("StopSignal", str),
    "stop_timeout": ("StopTimeout", stop_seconds),
    "tty": ("Tty", bool),
    "open_stdin": ("OpenStdin", bool),
}


def _escape_hatch(value: Any, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ConfigurationError(f"{what} must be a dictionary (or a JSON object)") from None
    if not isinstance(value, Mapping):
        raise ConfigurationError(f"{what} must be a dictionary (or a JSON object), got {value!r}")
    return {str(key): item for key, item in value.items()}


def container_create_body(
    image: str,
    command: Sequence[str],
    kit_labels: Mapping[str, str],
    *,
    config: Mapping[str, Any] | None = None,
    host_config: Mapping[str, Any] | None = None,
    **options: Any,
) -> dict[str, Any]:
    """The create body: defaults, explicit ``options`` (those of ``OPTION_FIELDS``; ``None``
    means "not given"), ``config``, ``host_config``, kit labels."""
    body: dict[str, Any] = {
        "Image": image,
        "Tty": False,
        "AttachStdout": True,
        "AttachStderr": True,
    }
    given: dict[str, Any] = {}
    for name, value in options.items():
        field, encode = OPTION_FIELDS[name]
        if value is not None:
            given[field] = encode(value)
    config = _escape_hatch(config, "config")
    host_config = _escape_hatch(host_config, "host_config")
    if "Image" in config:
        raise ConflictingOption(
            "config may not set Image: the image is the keyword's first argument"
        )
    if command and "Cmd" in config:
        raise ConflictingOption("Cmd given twice: as the command and in config; give it once")
    twice = sorted(set(given) & set(config))
    if twice:
        options_named = {field: name for name, (field, _) in OPTION_FIELDS.items()}
        raise ConflictingOption(
            "Given twice, as an option and in config: "
            + ", ".join(f"{field} ({options_named[field]}=)" for field in twice)
            + "; give each once"
        )
    if host_config and "HostConfig" in config:
        raise ConflictingOption("HostConfig given twice: as host_config and in config")
    if command:
        body["Cmd"] = command_list(list(command), what="command")
    body.update(config)
    body.update(given)
    if host_config:
        body["HostConfig"] = host_config
    if "Labels" in config:
        body["Labels"] = string_labels(config["Labels"], "config Labels")
    return with_kit_labels(body, kit_labels)


def with_kit_labels(body: Mapping[str, Any], kit_labels: Mapping[str, str]) -> dict[str, Any]:
    """``body`` with the kit's labels added to its ``Labels`` (which may not set them)."""
    if not kit_labels and "Labels" not in body:
        return dict(body)
    labels = body.get("Labels") or {}
    if not isinstance(labels, Mapping):
        raise ConfigurationError(f"Labels must be a JSON object, got {labels!r}")
    taken = sorted(key for key in kit_labels if key in labels and labels[key] != kit_labels[key])
    if taken:
        raise ConflictingOption(
            f"The label(s) {', '.join(taken)} belong to the kit: it labels every container "
            "with the run it belongs to, which cleanup relies on; use other label names"
        )
    return {**body, "Labels": {**{str(k): str(v) for k, v in labels.items()}, **kit_labels}}
