"""What every keyword component shares: the context, logging, timeouts and the current scope."""

from __future__ import annotations

from datetime import timedelta

from robot.api import logger
from robot.libraries.BuiltIn import BuiltIn, RobotNotRunningError

from ..capping import backstop
from ..client import DockerClient
from ..report_guard import log_kit_html
from .context import LibraryContext
from .registry import RUN_SCOPE, scope_of_suite, scope_of_test


def seconds(value: timedelta | float | None, default: float) -> float:
    """A keyword's ``timeout`` in seconds, or the library default when not given."""
    if value is None:
        return default
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)


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


def log(message: str) -> None:
    """INFO in the Robot log (from the keyword thread only), masked and capped
    (``capping.backstop``: keywords cap what they show themselves)."""
    logger.info(backstop(message))


def log_html(markup: str) -> None:
    """INFO in the Robot log, as HTML the kit built itself (a timeline picture): the only way
    the kit logs HTML (``report_guard.log_kit_html``); never pass untrusted markup."""
    log_kit_html(markup)


def debug(message: str) -> None:
    """DEBUG in the Robot log, masked and capped."""
    logger.debug(backstop(message))


def warn(message: str) -> None:
    """A warning, shown in the log's error section, masked and capped."""
    logger.warn(backstop(message))


class LibraryComponent:
    """Base of the keyword components: gives access to the shared ``LibraryContext``."""

    def __init__(self, context: LibraryContext) -> None:
        self.ctx = context

    @property
    def client(self) -> DockerClient:
        """The Docker API client (connects lazily, starting the simulator if needed)."""
        return self.ctx.client()
