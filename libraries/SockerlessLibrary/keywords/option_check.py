"""Unknown ``name=value`` options found in ``--dryrun``, where no keyword runs.

The keywords that take a ``*command`` catch unknown options in ``**unknown_options`` and fail
when they run (see ``create_options``). Robot cannot check those names itself (a keyword with
``**kwargs`` accepts any), so in a dry run the library's listener does: for every call of such a
keyword, and of a user keyword tagged ``options:<library keyword>`` (a wrapper that hands its
``&{options}`` to that keyword, e.g. ``Create Fargate Container`` with
``options:Create Container``), each ``name=value`` argument whose name is written out must be one
of the valid options. A name made of a variable is left to the run.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from robot.utils import normalize, split_from_equals
from robot.variables import contains_variable, is_dict_variable

from ..create_options import named_options, unknown_options_error

OPTIONS_TAG_PREFIX = "options:"
CATCHER = "unknown_options"


def option_catchers(keywords: Mapping[str, Callable[..., Any]]) -> dict[str, tuple[str, ...]]:
    """Normalized keyword name -> valid option names, for the keywords that catch unknown ones."""
    found: dict[str, tuple[str, ...]] = {}
    for name, method in keywords.items():
        parameters = inspect.signature(method).parameters
        if CATCHER in parameters:
            found[normalize(name, ignore="_")] = named_options(method)
    return found


def written_options(arguments: Iterable[Any]) -> dict[str, str]:
    """The ``name=value`` arguments of a call whose name is written out (no variable)."""
    named: dict[str, str] = {}
    for argument in arguments:
        if not isinstance(argument, str) or is_dict_variable(argument):
            continue
        name, value = split_from_equals(argument)
        if value is None or contains_variable(name) or not name.isidentifier():
            continue
        named[name] = value
    return named


def dry_run_option_problem(
    keyword: str,
    arguments: Iterable[Any],
    valid: Iterable[str],
) -> str | None:
    """The failure message for unknown written options, ``None`` when all are known."""
    allowed = set(valid)
    unknown = {
        name: value for name, value in written_options(arguments).items() if name not in allowed
    }
    if not unknown:
        return None
    return str(unknown_options_error(keyword, unknown, allowed))


def forwarded_keyword(tags: Iterable[str]) -> str | None:
    """The library keyword a user keyword hands its options to (``options:<name>`` tag)."""
    for tag in tags:
        text = str(tag)
        if text.lower().startswith(OPTIONS_TAG_PREFIX):
            return text[len(OPTIONS_TAG_PREFIX) :].strip()
    return None


def own_argument_names(spec: Any) -> set[str]:
    """The names a user keyword itself accepts as ``name=value``."""
    return set(getattr(spec, "positional_or_named", ()) or ()) | set(
        getattr(spec, "named_only", ()) or ()
    )
