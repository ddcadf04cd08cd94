"""The simulator's per-task agent (``python -m sockerless_sim.agent``) and its client.

The agent stands in for sockerless' ``/sockerless-agent``: it runs the task's command as its
child on this host (no image filesystem: ``tail -f /dev/null``, ``echo``, ``sh -c "exit 7"``,
``sleep N`` behave as on Linux) and serves exec/attach over a WebSocket on a unix socket, with
the protocol described in :mod:`sockerless_sim.agent.protocol`.
"""

from .client import AgentClient, AgentError, ExecSession

__all__ = ["AgentClient", "AgentError", "ExecSession"]
