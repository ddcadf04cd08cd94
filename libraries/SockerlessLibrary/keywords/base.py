"""What every keyword component shares: the context, logging, timeouts and the current scope."""

from __future__ import annotations

import contextlib
from datetime import timedelta

from robot.api import logger
from robot.libraries.BuiltIn import BuiltIn, RobotNotRunningError

from ..capping import backstop
from ..client import DockerClient
from ..report_guard import log_kit_html
from .context import LibraryContext
from .registry import RUN_SCOPE, scope_of_suite, scope_of_test
from .status import ArgumentError


def seconds(value: timedelta | float | None, default: float, *, name: str = "timeout") -> float:
    """A keyword's ``timeout`` (or other duration ``name``) in seconds, or the library default
    when not given. Zero or less is refused before anything is sent: a wait that cannot wait
    would only fail later, with a message about the daemon instead of the argument."""
    if value is None:
        return default
    given = value.total_seconds() if isinstance(value, timedelta) else float(value)
    if not given > 0:  # also refuses NaN
        raise ArgumentError(f"{name} must be more than 0 seconds, got {given:g}: nothing was sent")
    return given


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
