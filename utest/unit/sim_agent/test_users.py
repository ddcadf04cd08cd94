"""``User`` resolution against this host's user and group databases, with runc's rules."""

from __future__ import annotations

import grp
import os
import pwd

import pytest

from sockerless_sim.agent.users import UserError, can_switch_to, resolve_user


def test_a_numeric_user_without_an_entry_gets_group_0_and_home_slash() -> None:
    unused = next(uid for uid in range(4321, 60000) if not _has_uid(uid))
    resolved = resolve_user(str(unused))
    assert (resolved.uid, resolved.gid, resolved.groups, resolved.home) == (unused, 0, (0,), "/")


def test_a_name_takes_its_entry_and_an_explicit_group_replaces_the_primary() -> None:
    root = pwd.getpwuid(0)
    assert resolve_user(root.pw_name).uid == 0
    assert resolve_user(root.pw_name).home == root.pw_dir
    daemon_group = grp.getgrgid(1).gr_name
    with_group = resolve_user(f"0:{daemon_group}")
    assert (with_group.gid, with_group.groups[0]) == (1, 1)
    assert resolve_user("0:4242").gid == 4242


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("no-such-user", "unable to find user no-such-user: no matching entries in passwd file"),
        ("0:no-such-group", "unable to find group no-such-group: no matching entries in group"),
        (":0", "no user before the ':'"),
        ("99999999999", "uids and gids must be in range"),
    ],
)
def test_unresolvable_users_name_what_is_missing(spec: str, message: str) -> None:
    with pytest.raises(UserError, match=message):
        resolve_user(spec)


def test_only_root_switches_to_another_user() -> None:
    other = resolve_user(str(os.geteuid() + 1))
    assert can_switch_to(other) is (os.geteuid() == 0)
    assert can_switch_to(resolve_user(str(os.geteuid())))


def _has_uid(uid: int) -> bool:
    try:
        pwd.getpwuid(uid)
    except KeyError:
        return False
    return True
