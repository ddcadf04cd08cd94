"""How real sockerless reads the exit of a STOPPED task (the ``stop-exit-code-one`` quirk).

sockerless (020b7fa4, ``mapTaskStatus``) reports a task whose container exit code is 0 but whose
``stoppedReason`` is anything other than ECS's "Essential container in task exited" as
``ExitCode 1`` with that reason as ``State.Error``. Its own AWS simulator gives a container
stopped by StopTask exit code 0, so ``docker stop`` reads back ``1`` and
``"Container stopped via API"``. A container stopped by ``docker kill`` reads back 128 + the
signal number, as sockerless reports from the signal it records on the task.
"""

from __future__ import annotations

from dataclasses import replace

from .records import DockerState, TaskSnapshot

ESSENTIAL_EXITED_REASON = "Essential container in task exited"


def stopped_state(
    state: DockerState, snapshot: TaskSnapshot | None, kill_signal: int | None
) -> DockerState:
    """``state`` of a stopped task as sockerless reports it; any other state unchanged."""
    if snapshot is None or state.status != "exited":
        return state
    if kill_signal is not None:
        return replace(state, exit_code=128 + kill_signal)
    reason = snapshot.stopped_reason or ""
    if snapshot.exit_code == 0 and reason and reason != ESSENTIAL_EXITED_REASON:
        return replace(state, exit_code=1, error=reason)
    return state
