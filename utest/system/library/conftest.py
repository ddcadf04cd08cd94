"""The scripted unix-socket daemon's fixtures (``utest/scripted_daemon.py``) for the tests here."""

from utest.scripted_daemon import (
    client_for,
    isolated_journal,
    serve,
    socket_dir,
)
from utest.scripted_daemon import keep_alive_fixture as keep_alive

__all__ = ["client_for", "isolated_journal", "keep_alive", "serve", "socket_dir"]
