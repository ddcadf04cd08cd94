"""Waiting for a container to stop running: the daemon's blocking wait, else polling inspect.

``POST /containers/{id}/wait?condition=not-running`` answers once the container no longer runs
(real sockerless flushes the ``200`` head at once and sends the body then), so a wait costs the
daemon one request however long it lasts, where polling inspect costs real sockerless one ECS
``DescribeTasks`` per probe. A daemon may answer the wait ahead of its inspect, so inspect is
polled until it shows the exit. A daemon without the call (``support.lacks_call``) is polled
from the start; `Wait Until Container Is Not Running` documents the rest.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..errors import DaemonResponseError, DaemonTimeout, SockerlessError
from ..polling import Poller, PollTimeout, poll_until
from ..support import WAIT, lacks_call
from .bounded_wait import BoundedWait

WAIT_CONDITION = "not-running"
EXITED = ("exited", "dead")
NEVER_STARTED = "created"  # not running without having run: polling for an exit would not end
DEADLINE_INSPECT_SECONDS = 10.0  # the inspect that explains a wait cut by its deadline
# The fallback's inspect polls back off (0.5 s, 1 s, 2 s, 2 s...): a wait for a Fargate task's
# exit can last minutes, and every inspect costs the daemon a DescribeTasks.
FIRST_POLL_SECONDS = 0.5
MAX_POLL_SECONDS = 2.0


def container_state(inspect: Mapping[str, Any]) -> dict[str, Any]:
    """``State`` of an inspect result (``{}`` when absent)."""
    state = inspect.get("State")
    return dict(state) if isinstance(state, Mapping) else {}


def describe_state(inspect: Mapping[str, Any]) -> str:
    """The telling part of ``State`` as JSON, for the log and for failures."""
    state = container_state(inspect)
    keys = ("Status", "Running", "ExitCode", "Error", "StartedAt", "FinishedAt")
    shown = {key: state[key] for key in keys if key in state}
    return json.dumps(shown, sort_keys=False)


def has_exited(inspect: Mapping[str, Any]) -> bool:
    """``State.Status`` is ``exited`` (or ``dead``)."""
    return container_state(inspect).get("Status") in EXITED


class ExitWait(BoundedWait):
    """One wait, within ``budget`` seconds, for one container to stop running."""

    def run(self) -> dict[str, Any]:
        """The inspect result once the container no longer runs."""
        if self.ctx.daemon_support.lacks(self.daemon, WAIT):
            return self._poll()
        try:
            answer = self.client.wait_container(
                self.container_id,
                condition=WAIT_CONDITION,
                timeout=self.ctx.timeouts(read=self.budget),
            )
        except DaemonTimeout as error:
            raise self._deadline_failure(error) from None
        except DaemonResponseError as error:
            if not lacks_call(error):
                raise
            return self._poll_instead(error)
        inspect = dict(self.client.inspect_container(self.container_id))
        self._log(
            f"Wait for {self.container_id} ({WAIT_CONDITION}) answered {json.dumps(answer)} "
            f"after {self.elapsed():.1f} s; State {describe_state(inspect)}"
        )
        if has_exited(inspect) or container_state(inspect).get("Status") == NEVER_STARTED:
            return inspect
        self._log(
            f"The daemon's wait answered, but inspect does not show {self.container_id} exited "
            "yet: polling inspect until it does"
        )
        return self._poll(first=inspect)

    def _poll_instead(self, error: DaemonResponseError) -> dict[str, Any]:
        """The daemon lacks the call: poll, and say so once, after an inspect has shown that
        it is the call that is missing and not the container (which fails here)."""
        inspect = dict(self.client.inspect_container(self.container_id))
        self.learn_lacks(
            WAIT,
            f"{self.daemon} does not support {WAIT} (HTTP {error.status}: {error.detail}): "
            "waits for a container to exit poll inspect with back-off on this daemon",
        )
        return self._poll(first=inspect)

    def _poll(self, first: dict[str, Any] | None = None) -> dict[str, Any]:
        """Back-off polling of inspect until ``exited``, for what is left of the budget;
        ``first`` is an inspect result already in hand (the first observation)."""
        pending = [] if first is None else [first]

        def probe() -> dict[str, Any]:
            if pending:
                return pending.pop()
            return dict(self.client.inspect_container(self.container_id))

        return poll_until(
            Poller(probe=probe, done=has_exited, describe=describe_state),
            what=f"Container {self.container_id} status 'exited'",
            timeout=max(round(self.left(), 1), 0.0),
            interval=FIRST_POLL_SECONDS,
            max_interval=MAX_POLL_SECONDS,
            log=self._log,
        )

    def _deadline_failure(self, error: DaemonTimeout) -> PollTimeout:
        """The wait's deadline passed: say so with what one inspect shows now."""
        read = min(self.ctx.timeouts().read, DEADLINE_INSPECT_SECONDS)
        inspect: dict[str, Any] | None = None
        try:
            inspect = dict(
                self.client.inspect_container(
                    self.container_id, timeout=self.ctx.timeouts(read=read)
                )
            )
            state = describe_state(inspect)
        except SockerlessError as failure:
            state = f"none (inspect failed too: {failure})"
        return PollTimeout(
            f"Container {self.container_id} did not reach condition '{WAIT_CONDITION}' within "
            f"{self.budget:g} s: POST /containers/{self.container_id}/wait?condition="
            f"{WAIT_CONDITION} had not answered ({error}); inspect at the deadline: {state}",
            inspect,
        )
