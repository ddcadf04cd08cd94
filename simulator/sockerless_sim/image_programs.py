"""The programs an image has, for the images the simulator knows, without any image filesystem.

A task of ``alpine`` or ``busybox`` (any tag or digest, any Docker Hub spelling, the Public
Gallery mirror) finds only the busybox applets on its ``PATH``, so ``bash`` or ``python3`` is
not found (exit 127) as on Fargate, while ``sh``, ``echo``, ``sleep``, ``tail`` and the other
applets run. Each list becomes one directory of symbolic links, named after the programs:

* to this host's busybox (``busybox`` on the default PATH, e.g. Debian's ``busybox-static``)
  for every name that busybox provides, so the task runs busybox's own ``sh`` (ash), ``tail``
  and ``env``, with their messages (``sh: bash: not found``);
* otherwise to this host's program of that name (``/usr/bin/tail``); a name that neither
  provides is left out.

The agent replaces the image's ``PATH`` directories with that directory (``agent.programs``).
There is no root filesystem: a program named by an absolute path (``/bin/bash``) is this host's.
An image without a list runs with this host's PATH, as before; the create answer's ``Warnings``
says so.

The list is the applets of busybox 1.35.0 as Debian 12 builds ``busybox-static`` (``busybox
--list``, 269 names): the binary the private Docker Engine (``peers.docker_engine``) builds its
``alpine:latest`` from, so a command behaves alike on both. The real ``alpine`` and ``busybox``
images configure busybox a little differently and ``alpine`` adds ``apk``, ``ldd``, ``getent``,
``scanelf``, ... (not listed here).
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
import subprocess
import threading
from pathlib import Path

from .agent.programs import IMAGE_PATH

log = logging.getLogger(__name__)

BUSYBOX_APPLETS = frozenset(
    """
    [ [[ acpid adjtimex ar arch arp arping ascii ash awk base64 basename bc blkdiscard blockdev
    brctl bunzip2 busybox bzcat bzip2 cal cat chgrp chmod chown chroot chvt clear cmp cp cpio
    crc32 crond crontab cttyhack cut date dc dd deallocvt depmod devmem df diff dirname dmesg
    dnsdomainname dos2unix dpkg dpkg-deb du dumpkmap dumpleases echo ed egrep env expand expr
    factor fallocate false fatattr fdisk fgrep find findfs fold free freeramdisk fsfreeze fstrim
    ftpget ftpput getopt getty grep groups gunzip gzip halt head hexdump hostid hostname httpd
    hwclock i2cdetect i2cdump i2cget i2cset i2ctransfer id ifconfig ifdown ifup init insmod
    ionice ip ipcalc ipneigh kill killall klogd last less link linux32 linux64 linuxrc ln
    loadfont loadkmap logger login logname logread losetup ls lsmod lsscsi lzcat lzma lzop
    md5sum mdev microcom mim mkdir mkdosfs mke2fs mkfifo mknod mkpasswd mkswap mktemp modinfo
    modprobe more mount mt mv nameif nc netstat nl nologin nproc nsenter nslookup nuke od openvt
    partprobe passwd paste patch pidof ping ping6 pivot_root poweroff printf ps pwd rdate
    readlink realpath reboot renice reset resume rev rm rmdir rmmod route rpm rpm2cpio run-init
    run-parts sed seq setkeycodes setpriv setsid sh sha1sum sha256sum sha3sum sha512sum shred
    shuf sleep sort ssl_client start-stop-daemon stat strings stty su sulogin svc svok swapoff
    swapon switch_root sync sysctl syslogd tac tail tar taskset tc tee telnet telnetd test tftp
    time timeout top touch tr traceroute traceroute6 true truncate ts tty tunctl ubirename
    udhcpc udhcpd uevent umount uname uncompress unexpand uniq unix2dos unlink unlzma unshare
    unxz unzip uptime usleep uudecode uuencode vconfig vi w watch watchdog wc wget which who
    whoami xargs xxd xz xzcat yes zcat
    """.split()  # noqa: SIM905 - the names as `busybox --list` prints them, easy to compare
)

# Image repository (Docker Hub library name) -> (list name, programs).
PROGRAM_LISTS: dict[str, tuple[str, frozenset[str]]] = {
    "alpine": ("busybox-applets", BUSYBOX_APPLETS),
    "busybox": ("busybox-applets", BUSYBOX_APPLETS),
}

# The spellings of a Docker Hub library image: docker.io/library/alpine, the AWS Public
# Gallery mirror sockerless rewrites it to, library/alpine.
_LIBRARY_PREFIXES = (
    "docker.io/library/",
    "index.docker.io/library/",
    "registry-1.docker.io/library/",
    "public.ecr.aws/docker/library/",
    "library/",
)
BUSYBOX_LIST_TIMEOUT = 10.0


def repository(image: str) -> str:
    """The repository of an image reference, without tag or digest (``alpine:3.19`` ->
    ``alpine``, ``docker.io/library/alpine@sha256:...`` -> ``alpine``); a Docker Hub library
    image by its short name."""
    name = image.partition("@")[0]
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name = name[: len(name) - len(last)] + last.partition(":")[0]
    for prefix in _LIBRARY_PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def program_list(image: str) -> tuple[str, frozenset[str]] | None:
    """The image's program list (its name, the programs), or None when the simulator has none."""
    return PROGRAM_LISTS.get(repository(image))


def no_program_list_warning(image: str) -> str:
    """The create answer's warning for an image the simulator has no program list for."""
    known = ", ".join(sorted(PROGRAM_LISTS))
    return (
        f"Config.Image {image!r} has no program list in the embedded simulator: its command "
        f"finds this host's programs on its PATH, which a Fargate task of that image may not "
        f"have (only {known} images find just their own programs)"
    )


def _host_busybox() -> tuple[str, frozenset[str]] | None:
    """This host's busybox and its applets (``busybox --list``), or None without one."""
    binary = shutil.which("busybox", path=os.defpath + ":" + IMAGE_PATH)
    if binary is None:
        return None
    try:
        listed = subprocess.run(
            [binary, "--list"], capture_output=True, text=True, timeout=BUSYBOX_LIST_TIMEOUT,
            check=True,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("cannot list the applets of %s: %s", binary, exc)
        return None
    return str(Path(binary).resolve()), frozenset(listed.stdout.split())


class ProgramDirectories:
    """One directory of program links per program list, made when a task first needs it."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._lock = threading.Lock()
        self._made: dict[str, Path] = {}

    def directory_for(self, image: str) -> Path | None:
        """The directory holding the programs of ``image`` (None: the image has no list)."""
        found = program_list(image)
        if found is None:
            return None
        name, programs = found
        with self._lock:
            if name not in self._made:
                self._made[name] = self._make(name, programs)
            return self._made[name]

    def _make(self, name: str, programs: frozenset[str]) -> Path:
        directory = self._root / name
        directory.mkdir(parents=True, exist_ok=True)
        # A task running as another User must reach its programs: traversable, not listable,
        # up to here (the runner's work directory is private otherwise).
        for step in (self._root.parent, self._root, directory):
            step.chmod(stat.S_IMODE(step.stat().st_mode) | 0o111)
        busybox = _host_busybox()
        linked = 0
        for program in sorted(programs):
            target = self._target(program, busybox)
            if target is None:
                continue
            link = directory / program
            if not link.is_symlink():
                link.symlink_to(target)
            linked += 1
        log.info(
            "programs of %s: %d of %d linked in %s (%s)", name, linked, len(programs), directory,
            f"busybox {busybox[0]}" if busybox else "no busybox on this host",
        )  # fmt: skip
        return directory

    @staticmethod
    def _target(program: str, busybox: tuple[str, frozenset[str]] | None) -> str | None:
        if busybox is not None and program in busybox[1] | {"busybox"}:
            return busybox[0]
        return shutil.which(program, path=IMAGE_PATH)
