"""AWS side of the kit: configuration, credentials, preflight, look-ups, proofs, cleanup.

Everything here only touches resources derived from container IDs the kit created: the task
definition family ``sockerless-<id[:12]>``, tasks tagged with the container ID, and log streams
``<id[:12]>/...``. Nothing runs at import.
"""
