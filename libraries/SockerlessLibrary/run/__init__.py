"""The run's state and bookkeeping, without Robot: the context, the cleanup registry, the guard
around each create, the janitor, the account of what was down or left, the processes' account."""
