"""Every call of a kit keyword is checked against that keyword's arguments before it runs.

Robot hands a keyword a ``name=value`` whose name is none of its arguments on as a positional
value (into ``*command``, the next argument, or ``&{options}``): a misspelt ``tial=1`` would
silently mean something else, and the test pass. This listener refuses it for the library's
keywords and the kit resource files' (those beside ``sockerless.resource``) alike, in a run and
in ``--dryrun``; ``docs/writing-suites.md`` ("Nothing you type is quietly misread") shows the
message. A ``name=value`` (a literal name, an ``=`` not escaped) is refused when the name is
none of the keyword's arguments and Robot would not hand it on unchanged as a value anyway: an
identifier, or any name for a keyword that takes ``&{options}``. A name made of a variable is
left to Robot.

A user keyword that takes ``&{options}`` also accepts the options of the keywords it hands them
to (found in its body, as Robot finds them in the running suite): ``Create Fargate Container``
is checked against ``Create Container``'s options, a wrapper of a wrapper (the conformance
suite's ``Run Probe Container``) against the forwarded ones too, and fails under its own name.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from robot.running.arguments import PythonArgumentParser
from robot.running.context import EXECUTION_CONTEXTS
from robot.utils import normalize, split_from_equals
from robot.variables import contains_variable, is_dict_variable, is_list_variable

# The kit's resource files are the ones beside the resource file that imports the library, in the
# checkout, in the installed package, and in a copy of the directory alike.
KIT_RESOURCE_MARKER = "sockerless.resource"


@dataclass(frozen=True)
class Signature:
    """The arguments of one keyword, as far as ``name=value`` goes."""

    positional: tuple[str, ...]  # positional-or-named, in order
    required: int  # how many of them have no default
    named_only: tuple[str, ...] = ()
    var_positional: bool = False
    var_named: bool = False
    forwarded: tuple[str, ...] = ()  # the options its ``&{options}`` hands on

    @classmethod
    def from_spec(cls, spec: Any) -> Signature:
        """From Robot's ``ArgumentSpec`` (library and user keywords alike; a Python keyword's
        as Robot reads it: positional-only parameters are never given by name)."""
        positional = tuple(spec.positional_or_named)
        defaults = set(spec.defaults)
        return cls(
            positional=positional,
            required=sum(1 for name in positional if name not in defaults),
            named_only=tuple(spec.named_only),
            var_positional=bool(spec.var_positional),
            var_named=bool(spec.var_named),
        )

    @property
    def options(self) -> tuple[str, ...]:
        """What the keyword takes as ``name=value`` beyond its required positional arguments."""
        own = (*self.positional[self.required :], *self.named_only, *self.forwarded)
        return tuple(sorted(dict.fromkeys(own)))

    @property
    def accepted(self) -> frozenset[str]:
        """Every name Robot matches: the options and the required positional arguments."""
        return frozenset((*self.positional, *self.named_only, *self.forwarded))


def escape_equals(argument: str) -> str:
    """``argument`` with every ``=`` Robot would split at escaped (``a=b=c`` -> ``a\\=b\\=c``),
    so that Robot passes it on as one value."""
    parts = []
    rest: str | None = argument
    while rest is not None:
        head, rest = split_from_equals(rest)
        parts.append(head)
    return "\\=".join(parts)


@dataclass(frozen=True)
class Refused:
    """One argument the keyword does not take: as written, its name, and whether it could be
    meant as a positional value (then escaping its ``=`` makes it one)."""

    text: str
    name: str
    value_meant: bool


def refused_arguments(signature: Signature, arguments: Iterable[Any]) -> list[Refused]:
    """The ``name=value`` arguments of a call that name none of the keyword's arguments."""
    refused = []
    positional_seen = 0
    open_ended = signature.var_positional
    for argument in arguments:
        if not isinstance(argument, str) or is_dict_variable(argument):
            continue
        if is_list_variable(argument):
            open_ended = True  # how many positional values it gives is known only at run time
            continue
        name, value = split_from_equals(argument)
        if value is None or contains_variable(name) or name in signature.accepted:
            positional_seen += value is None
            continue
        if not (signature.var_named or name.isidentifier()):
            positional_seen += 1  # Robot hands it on as a value: ``echo a=b``, ``--x=1``
            continue
        value_meant = open_ended or positional_seen < len(signature.positional)
        refused.append(Refused(argument, name, value_meant))
        positional_seen += 1
    return refused


def refusal_message(keyword: str, signature: Signature, refused: Sequence[Refused]) -> str:
    """Names the keyword, what it got, its options with the closest one, and the escape."""
    options = signature.options
    parts = []
    for item in refused:
        close = difflib.get_close_matches(item.name, options, n=1, cutoff=0.6)
        parts.append(f"'{item.text}'" + (f" (did you mean {close[0]}?)" if close else ""))
    plural = "s" if len(parts) > 1 else ""
    message = f"{keyword} got unknown option{plural} {', '.join(parts)}: " + (
        f"valid options are {', '.join(options)}" if options else "it takes no options"
    )
    meant = next((item for item in refused if item.value_meant), None)
    if meant is not None:
        message += (
            f". If '{meant.text}' is a value, not an option, escape each '=': "
            f"'{escape_equals(meant.text)}'"
        )
    return message


def forwarding_targets(body: Iterable[Any], options_variable: str) -> Iterator[str]:
    """Names of the keywords a user keyword's body hands ``&{options_variable}`` to."""
    for item in body:
        arguments = getattr(item, "args", None)
        name = getattr(item, "name", None)
        if name and arguments and options_variable in arguments:
            yield str(name)
        # IF, FOR, TRY and WHILE keep their branches and iterations' steps in ``body``.
        yield from forwarding_targets(getattr(item, "body", None) or (), options_variable)


def is_kit_resource(source: Path | str | None) -> bool:
    """A resource file of the kit: one in the directory that holds ``sockerless.resource``."""
    if not source:
        return False
    path = Path(source)
    return path.suffix == ".resource" and (path.parent / KIT_RESOURCE_MARKER).is_file()


class ArgumentCheck:
    """The listener (a library component) that refuses unknown ``name=value`` arguments; it
    checks the keywords of the library it is told of with `know`."""

    ROBOT_LISTENER_API_VERSION = 3

    def __init__(self, *, resource_keywords: bool = True) -> None:
        self._library: object | None = None
        self._library_signatures: dict[str, Signature] = {}
        # A second library of the kit (the conformance matrix) checks only its own keywords:
        # the main library's listener already checks the resource files'.
        self._resource_keywords = resource_keywords
        # None: a user keyword that is not the kit's (asked of the file system once).
        self._resource_signatures: dict[tuple[str, str], Signature | None] = {}
        self._resolving: set[tuple[str, str]] = set()  # wrappers whose options are being found

    def know(self, library: object, keywords: Mapping[str, Callable[..., Any]]) -> None:
        """The library instance whose keywords are checked, and its keywords by name (their
        signatures give the options a resource keyword's ``&{options}`` may forward)."""
        self._library = library
        self._library_signatures = {
            normalize(name, ignore="_"): Signature.from_spec(PythonArgumentParser().parse(method))
            for name, method in keywords.items()
        }

    def library_signature(self, name: str) -> Signature | None:
        """A keyword of this library by any spelling Robot accepts (``Library.Name`` too)."""
        key = normalize(name, ignore="_")
        found = self._library_signatures.get(key)
        if found is None and "." in name:
            found = self._library_signatures.get(normalize(name.rsplit(".", 1)[1], ignore="_"))
        return found

    def signature_of(self, implementation: Any) -> Signature | None:
        """The signature to check a call against; ``None`` for keywords not of the kit."""
        if implementation.type == implementation.LIBRARY_KEYWORD:
            owner = getattr(implementation, "owner", None)
            if getattr(owner, "instance", None) is not self._library:
                return None
            return Signature.from_spec(implementation.args)
        if not self._resource_keywords:
            return None
        key = (str(implementation.source), str(implementation.name))
        if key not in self._resource_signatures:
            self._resolving.add(key)
            try:
                self._resource_signatures[key] = (
                    self._user_keyword_signature(implementation)
                    if is_kit_resource(implementation.source)
                    else None
                )
            finally:
                self._resolving.discard(key)
        return self._resource_signatures[key]

    def _user_keyword_signature(self, implementation: Any) -> Signature:
        spec = implementation.args
        signature = Signature.from_spec(spec)
        if not spec.var_named:
            return signature
        variable = f"&{{{spec.var_named}}}"
        forwarded: list[str] = []
        for target in forwarding_targets(implementation.body, variable):
            callee = self.library_signature(target) or self._kit_keyword_signature(target)
            if callee is not None:
                forwarded.extend(callee.options)
        return replace(signature, forwarded=tuple(dict.fromkeys(forwarded)))

    def _kit_keyword_signature(self, name: str) -> Signature | None:
        """A kit resource keyword called ``name`` in the running suite, as Robot would run it;
        ``None`` for any other keyword, outside a run, and for a wrapper already being resolved
        (a keyword that forwards to itself adds nothing)."""
        context = EXECUTION_CONTEXTS.current
        if context is None:
            return None
        runner = context.namespace.get_runner(name, recommend_on_failure=False)
        keyword = getattr(runner, "keyword", None)
        if keyword is None or keyword.type != keyword.USER_KEYWORD:
            return None
        if (str(keyword.source), str(keyword.name)) in self._resolving:
            return None
        return self.signature_of(keyword)

    def problem(self, data: Any, implementation: Any) -> str | None:
        """Why this call is refused, or ``None``."""
        signature = self.signature_of(implementation)
        if signature is None:
            return None
        refused = refused_arguments(signature, data.args)
        if not refused:
            return None
        return refusal_message(str(implementation.name), signature, refused)

    # Listener interface. A refused call is marked invalid before it starts: Robot then runs
    # neither a library keyword nor a user keyword's body, and reports the end as that of an
    # invalid keyword, where the message is made the refusal (an argument count error that
    # Robot found first, or a dry run, would otherwise have the last word).

    def start_library_keyword(self, data: Any, implementation: Any, result: Any) -> None:
        """Refuse an unknown ``name=value`` before a keyword of this library runs."""
        self._refuse(data, implementation)

    def start_user_keyword(self, data: Any, implementation: Any, result: Any) -> None:
        """Refuse an unknown ``name=value`` before a kit resource keyword's body runs."""
        self._refuse(data, implementation)

    def end_invalid_keyword(self, data: Any, implementation: Any, result: Any) -> None:
        """A refused call fails with the refusal, in a run and in a dry run."""
        error = getattr(implementation, "error", None)
        if error and error == self.problem(data, implementation):
            result.status = "FAIL"
            result.message = error

    def _refuse(self, data: Any, implementation: Any) -> None:
        if implementation.error:
            return
        problem = self.problem(data, implementation)
        if problem:
            implementation.error = problem
