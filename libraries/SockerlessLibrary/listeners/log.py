"""Robot's log as the kit writes it (masked, capped; HTML: ``report_guard.log_kit_html``), the top
suite's metadata, and the scope a resource made now belongs to."""

from __future__ import annotations

import contextlib

from robot.api import logger
from robot.libraries.BuiltIn import BuiltIn, RobotNotRunningError

from ..capping import backstop
from ..run.registry import RUN_SCOPE, scope_of_suite, scope_of_test


def current_scope() -> str:
    """The scope a resource created now belongs to: this test, else this suite, else the run."""
    try:
        builtin = BuiltIn()
        suite = builtin.get_variable_value("${SUITE NAME}")
        test = builtin.get_variable_value("${TEST NAME}")
    except RobotNotRunningError:
        return RUN_SCOPE
    if test and suite:
        return scope_of_test(f"{suite}.{test}")
    if suite:
        return scope_of_suite(str(suite))
    return RUN_SCOPE


def set_top_metadata(name: str, value: str) -> None:
    """Metadata of the run's top suite (nothing outside a Robot run)."""
    with contextlib.suppress(RobotNotRunningError):
        BuiltIn().set_suite_metadata(name, value, top=True)


def log(message: str) -> None:
    """INFO in the Robot log (from the keyword thread only), masked and capped
    (``capping.backstop``: keywords cap what they show themselves)."""
    logger.info(backstop(message))


def debug(message: str) -> None:
    """DEBUG in the Robot log, masked and capped."""
    logger.debug(backstop(message))


def warn(message: str) -> None:
    """A warning, shown in the log's error section, masked and capped."""
    logger.warn(backstop(message))
