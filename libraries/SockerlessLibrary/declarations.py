"""How many containers each selected test declares it creates: the size of an ``auto`` budget.

Read from the ``fargate-tasks:N`` tags of every test Robot selected (1 without one: the spec's
one sequential flow) and the ``fargate-tasks`` metadata of their suites' setups, when the first
suite starts, so the run's budget is known before it spends anything. ``docs/writing-suites.md``
says how a suite declares them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .errors import ConfigurationError

TAG_PREFIX = "fargate-tasks:"
SUITE_METADATA = "fargate-tasks"
DEFAULT_TASKS_PER_TEST = 1
_TAG = re.compile(r"fargate-tasks:(.*)", re.IGNORECASE)


class InvalidDeclaration(ConfigurationError, ValueError):
    """A ``fargate-tasks:`` tag that is not a whole number."""

    ROBOT_SUPPRESS_NAME = True


def declared_need(tags: Iterable[str]) -> int | None:
    """The N of a test's ``fargate-tasks:N`` tag, ``None`` without one.

    Raises `InvalidDeclaration` for a value that is not a whole number, or two different ones.
    """
    values = set()
    for tag in tags:
        match = _TAG.fullmatch(str(tag).strip())
        if match is None:
            continue
        text = match.group(1).strip()
        if not (text.isascii() and text.isdigit()):
            raise InvalidDeclaration(
                f"Tag '{tag}' does not declare a number of Fargate tasks: use "
                f"{TAG_PREFIX}N with a whole number, e.g. {TAG_PREFIX}2"
            )
        values.add(int(text))
    if len(values) > 1:
        raise InvalidDeclaration(
            f"Tags declare {len(values)} different Fargate task counts "
            f"({', '.join(f'{TAG_PREFIX}{n}' for n in sorted(values))}): keep one"
        )
    return values.pop() if values else None


def suite_need(metadata: Any) -> int | None:
    """The N of a suite's ``fargate-tasks`` metadata (its setup's containers), ``None`` without.

    Raises `InvalidDeclaration` for a value that is not a whole number.
    """
    for name, value in dict(metadata).items():
        if str(name).strip().lower() == SUITE_METADATA:
            return declared_need([f"{TAG_PREFIX}{value}"])
    return None


@dataclass(frozen=True)
class TaskDeclarations:
    """The selected tests' declared needs, by test full name, and those of suite setups."""

    needs: dict[str, int] = field(default_factory=dict)
    undeclared: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    suite_needs: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_tests(cls, tests: Iterable[tuple[str, Iterable[str]]]) -> TaskDeclarations:
        """From ``(full name, tags)`` pairs; a test without a tag gets the default."""
        needs: dict[str, int] = {}
        undeclared: list[str] = []
        problems: list[str] = []
        for name, tags in tests:
            try:
                need = declared_need(tags)
            except InvalidDeclaration as error:
                problems.append(f"test '{name}': {error}")
                need = None
            if need is None:
                undeclared.append(name)
                need = DEFAULT_TASKS_PER_TEST
            needs[name] = need
        return cls(needs, tuple(undeclared), tuple(problems))

    @classmethod
    def from_suite(cls, suite: Any) -> TaskDeclarations:
        """From a running (``robot.running``) suite: its tests and its child suites' tests, and
        the ``fargate-tasks`` metadata of every suite among them that has a test to run."""
        tests = cls.from_tests((test.full_name, list(test.tags)) for test in suite.all_tests)
        suite_needs: dict[str, int] = {}
        problems = list(tests.problems)
        pending = [suite]
        while pending:
            current = pending.pop()
            pending.extend(current.suites)
            if not current.has_tests:
                continue
            try:
                need = suite_need(current.metadata)
            except InvalidDeclaration as error:
                problems.append(f"suite '{current.full_name}': {error}")
                continue
            if need is not None:
                suite_needs[current.full_name] = need
        return cls(tests.needs, tests.undeclared, tuple(problems), suite_needs)

    @property
    def total(self) -> int:
        """What the selected tests and the setups of their suites need together."""
        return sum(self.needs.values()) + sum(self.suite_needs.values())

    def check(self) -> None:
        """Raise the first bad tag (a create must not run on a budget nobody can read)."""
        if self.problems:
            raise InvalidDeclaration(
                "Cannot size the Fargate task budget from the selected tests: "
                + "; ".join(self.problems)
            )

    def describe(self) -> str:
        """``4 declared by 4 selected tests (1 without a fargate-tasks tag, counted as 1)``."""
        tests = len(self.needs)
        text = f"{self.total} declared by {tests} selected test{'' if tests == 1 else 's'}"
        if self.suite_needs:
            setups = len(self.suite_needs)
            text += f" and {setups} suite setup{'' if setups == 1 else 's'}"
        if self.undeclared:
            text += (
                f" ({len(self.undeclared)} without a {TAG_PREFIX}N tag, counted as "
                f"{DEFAULT_TASKS_PER_TEST} each)"
            )
        return text
