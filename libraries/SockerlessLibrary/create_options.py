"""The body of ``POST /containers/create`` from a keyword's options, and options it does not know.

A QA engineer types ``name=value`` options after a command. Robot hands a keyword with ``*command``
every ``name=value`` whose name is not one of its parameters as one more command word, unless the
keyword also takes ``**kwargs``: so the keywords that take a command catch the unknown ones and
fail, naming the valid options (`unknown_options_error`). Nothing a user types becomes a label or a
command word by accident; a command word that really contains ``=`` is written ``FOO\\=bar``.

`container_create_body` builds the Docker create body from the explicit options plus two escape
hatches (``config`` merged into the body, ``host_config`` into ``HostConfig``). A field given both
as an option and through an escape hatch is an error, never a silent choice; the kit's own labels
(run id, project) are always added and may not be set by the caller, since cleanup depends on them.
"""

from __future__ import annotations

import difflib
import inspect
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .encoding import command_list, env_list
from .errors import ConfigurationError

# Option name -> the field of Docker's create body it sets.
OPTION_FIELDS = {
    "entrypoint": "Entrypoint",
    "env": "Env",
    "working_dir": "WorkingDir",
    "user": "User",
    "labels": "Labels",
    "stop_signal": "StopSignal",
    "stop_timeout": "StopTimeout",
    "tty": "Tty",
    "open_stdin": "OpenStdin",
}


class UnknownOption(ConfigurationError, ValueError):
    """A ``name=value`` the keyword does not know; nothing was sent."""

    ROBOT_SUPPRESS_NAME = True


class ConflictingOption(ConfigurationError, ValueError):
    """The same create field given twice (an option and ``config``), or a kit label overridden."""

    ROBOT_SUPPRESS_NAME = True


def named_options(function: Callable[..., Any]) -> tuple[str, ...]:
    """The names a keyword accepts as ``name=value`` after its ``*command``: its keyword-only
    parameters (the signature is the one list of valid options)."""
    return tuple(
        name
        for name, parameter in inspect.signature(function).parameters.items()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY
    )


def unknown_options_error(
    keyword: str, unknown: Mapping[str, Any], valid: Iterable[str]
) -> UnknownOption:
    """The failure of a keyword called with ``name=value`` options it does not know."""
    names = sorted(valid)
    parts = []
    for name, value in unknown.items():
        close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]}?)" if close else ""
        parts.append(f"'{name}={value}'{hint}")
    return UnknownOption(
        f"{keyword} got unknown option{'s' if len(parts) > 1 else ''} {', '.join(parts)}: "
        f"valid options are {', '.join(names)}. A command word that contains '=' is written "
        f"with a backslash, e.g. '{next(iter(unknown))}\\={next(iter(unknown.values()))}'"
    )


@dataclass(frozen=True)
class CreateOptions:
    """What ``Create Container`` was given; ``None`` means "not given"."""

    entrypoint: Sequence[str] | str | None = None
    env: Mapping[str, Any] | Sequence[str] | None = None
    working_dir: str | None = None
    user: str | None = None
    labels: Mapping[str, Any] | None = None
    stop_signal: str | None = None
    stop_timeout: int | None = None
    tty: bool | None = None
    open_stdin: bool | None = None
    config: Mapping[str, Any] | None = None
    host_config: Mapping[str, Any] | None = None

    def given_fields(self) -> dict[str, Any]:
        """The create fields set by explicit options, encoded as Docker wants them."""
        fields: dict[str, Any] = {}
        if self.entrypoint is not None:
            entrypoint = [self.entrypoint] if isinstance(self.entrypoint, str) else self.entrypoint
            fields["Entrypoint"] = command_list(entrypoint, what="entrypoint")
        if self.env is not None:
            fields["Env"] = env_list(_mapping_or_list(self.env, "env"))
        if self.labels is not None:
            fields["Labels"] = string_labels(self.labels, "labels")
        if self.stop_timeout is not None:
            fields["StopTimeout"] = int(self.stop_timeout)
        for name in ("working_dir", "user", "stop_signal"):
            value = getattr(self, name)
            if value is not None:
                fields[OPTION_FIELDS[name]] = str(value)
        for name in ("tty", "open_stdin"):
            value = getattr(self, name)
            if value is not None:
                fields[OPTION_FIELDS[name]] = bool(value)
        return fields


def string_labels(labels: Any, what: str) -> dict[str, str]:
    """Labels as Docker's ``{"key": "value"}`` of strings; anything else is an error."""
    if not isinstance(labels, Mapping):
        raise ConfigurationError(
            f"{what} must be a dictionary (e.g. &{{labels}} with key=value items), got {labels!r}"
        )
    return {str(key): str(value) for key, value in labels.items()}


def _mapping_or_list(value: Any, what: str) -> Mapping[str, Any] | Sequence[str]:
    if isinstance(value, Mapping):
        return value
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise ConfigurationError(
            f"{what} must be a dictionary or a list of 'KEY=value', got {value!r}"
        )
    bad = [item for item in value if not isinstance(item, str) or "=" not in item]
    if bad:
        raise ConfigurationError(f"{what} items must read 'KEY=value', got {bad!r}")
    return value


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
    options: CreateOptions,
    kit_labels: Mapping[str, str],
) -> dict[str, Any]:
    """The create body: defaults, explicit options, ``config``, ``host_config``, kit labels."""
    body: dict[str, Any] = {
        "Image": image,
        "Tty": False,
        "AttachStdout": True,
        "AttachStderr": True,
    }
    given = options.given_fields()
    config = _escape_hatch(options.config, "config")
    host_config = _escape_hatch(options.host_config, "host_config")
    if "Image" in config:
        raise ConflictingOption(
            "config may not set Image: the image is the keyword's first argument"
        )
    if command and "Cmd" in config:
        raise ConflictingOption("Cmd given twice: as the command and in config; give it once")
    twice = sorted(set(given) & set(config))
    if twice:
        options_named = {field: name for name, field in OPTION_FIELDS.items()}
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
