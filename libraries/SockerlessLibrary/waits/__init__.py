"""Waits on one container within a time budget: its exit, a line in its logs."""
