"""``User`` of a container or exec (``name|uid[:group|gid]``) resolved as a container runtime
does, but against this host's ``/etc/passwd`` and ``/etc/group``: there is no image filesystem.

The rules follow runc's (what Docker and Fargate use): a numeric user that has no passwd entry
still runs, with group 0 and home ``/``; a name must have an entry; an explicit group replaces
the primary group; the supplementary groups are the primary group plus every group that lists
the user's name as a member.

Example::

    resolve_user("1234")        # ResolvedUser(uid=1234, gid=0, groups=(0,), home="/")
    resolve_user("nobody:root") # uid 65534, gid 0, home "/nonexistent"
    resolve_user("nosuch")      # UserError: unable to find user nosuch: ...
"""

from __future__ import annotations

import grp
import os
import pwd
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

DEFAULT_HOME = "/"
ROOT_GID = 0
MAX_ID = 2**31 - 1


class UserError(ValueError):
    """A user or group that cannot be resolved (the message says which, in runc's words)."""


@dataclass(frozen=True)
class ResolvedUser:
    """Who a process runs as."""

    uid: int
    gid: int
    groups: tuple[int, ...]
    home: str


def _numeric(text: str) -> int | None:
    if not text.isdigit():
        return None
    value = int(text)
    if value > MAX_ID:
        raise UserError(f"uids and gids must be in range 0-{MAX_ID}: {text}")
    return value


def _passwd_entry(user: str) -> pwd.struct_passwd | None:
    number = _numeric(user)
    try:
        return pwd.getpwuid(number) if number is not None else pwd.getpwnam(user)
    except KeyError:
        return None


def _group_id(group: str) -> int:
    number = _numeric(group)
    if number is not None:
        return number
    try:
        return grp.getgrnam(group).gr_gid
    except KeyError:
        raise UserError(
            f"unable to find group {group}: no matching entries in group file "
            "(this host's /etc/group: the simulator has no image filesystem)"
        ) from None


def resolve_user(spec: str) -> ResolvedUser:
    """``spec`` as runc resolves it, against this host's user and group databases."""
    user, _, group = spec.partition(":")
    if not user:
        raise UserError(f"invalid user {spec!r}: no user before the ':'")
    entry = _passwd_entry(user)
    if entry is None:
        uid = _numeric(user)
        if uid is None:
            raise UserError(
                f"unable to find user {user}: no matching entries in passwd file "
                "(this host's /etc/passwd: the simulator has no image filesystem)"
            )
        gid, home, member_of = ROOT_GID, DEFAULT_HOME, []
    else:
        uid, gid, home = entry.pw_uid, entry.pw_gid, entry.pw_dir or DEFAULT_HOME
        member_of = [g.gr_gid for g in grp.getgrall() if entry.pw_name in g.gr_mem]
    if group:
        gid = _group_id(group)
    groups = tuple(dict.fromkeys([gid, *member_of]))
    return ResolvedUser(uid=uid, gid=gid, groups=groups, home=home)


def can_switch_to(user: ResolvedUser) -> bool:
    """Whether this process may start a child as ``user`` (root may; others only as
    themselves)."""
    return os.geteuid() == 0 or (user.uid == os.geteuid() and user.gid == os.getegid())


def popen_identity(user: ResolvedUser | None) -> dict[str, Any]:
    """``subprocess.Popen`` arguments that start a child as ``user`` (none: as this process).

    A process that is not root can only run children as itself (``can_switch_to``); it passes
    nothing, since ``setgroups`` would fail even for its own groups.
    """
    if user is None or os.geteuid() != 0:
        return {}
    return {"user": user.uid, "group": user.gid, "extra_groups": list(user.groups)}


def set_home(env: MutableMapping[str, str], user: ResolvedUser | None) -> None:
    """``HOME`` from the user's passwd entry unless the container's environment sets it, as
    Docker does."""
    if user is not None and "HOME" not in env:
        env["HOME"] = user.home
