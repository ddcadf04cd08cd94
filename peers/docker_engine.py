"""A private, real Docker Engine (Debian's ``docker.io``) for the project's own checks.

    python -m peers.docker_engine run [--env-var NAME] -- COMMAND [ARG...]
    python -m peers.docker_engine check [--start]
    python -m peers.docker_engine install [PACKAGE...]

``PrivateDockerEngine`` installs ``docker.io`` and ``busybox-static`` with apt-get when they are
missing (as root only), starts its own ``containerd`` and ``dockerd`` with every path in one
temporary directory (socket, data root, exec root, pidfile, containerd state, config file, logs),
waits for ``/_ping``, and imports ``alpine:latest`` built here from the static busybox (no image
registry is needed or contacted). ``stop()`` ends all of it and leaves no process, mount, cgroup
or file behind; it is idempotent and also runs at exit and on SIGTERM/SIGHUP.

What keeps it private next to another engineer's Docker Engine on the same machine: its own
``containerd`` (never the system one at ``/run/containerd``), ``--config-file`` of its own (never
``/etc/docker/daemon.json``), ``--iptables=false --ip-masq=false --ip-forward=false`` (no firewall
chain or kernel setting is touched), and a cgroup parent named after its directory. Containers
get their address on the default bridge ``docker0``, which dockerd creates when it is missing;
``stop()`` removes it again when this engine created it and no other one of ours is running.

``run`` exits with the command's status, or with ``77`` (printing one line
``docker engine: unavailable: <why>``) when no engine can be had, without running the command.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import http.client
import io
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any
from urllib.parse import urlencode

UNAVAILABLE_EXIT_CODE = 77
DEFAULT_ENV_VAR = "KIT_DOCKER_ENGINE_HOST"
PACKAGES = ("docker.io", "busybox-static")
IMAGE_REPOSITORY = "alpine"
IMAGE_TAG = "latest"
IMAGE = f"{IMAGE_REPOSITORY}:{IMAGE_TAG}"
TEMP_PREFIX = "kit-engine-"
# /tmp, not $TMPDIR: socket paths below it must stay within AF_UNIX's 107 bytes, and the reaper
# looks for the directories of dead runs in one known place.
TEMP_PARENT = "/tmp"  # noqa: S108 - mkdtemp makes a private (0700) directory below it
BRIDGE = "docker0"
BRIDGE_MARKER = "created-docker0"
BUSYBOX_PATHS = ("/bin/busybox", "/usr/bin/busybox")
# Applets the checks rely on; everything else busybox offers is linked too when it can list them.
REQUIRED_APPLETS = (
    "sh",
    "echo",
    "tail",
    "sleep",
    "cat",
    "true",
    "false",
    "env",
    "printf",
    "ls",
    "id",
    "kill",
    "wc",
    "head",
)
CONTAINER_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
SEARCH_PATH = os.pathsep.join((os.environ.get("PATH", ""), "/usr/sbin", "/usr/bin", "/sbin"))

APT_UPDATE_TIMEOUT = 300.0
APT_INSTALL_TIMEOUT = 600.0
START_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0
API_TIMEOUT = 30.0
POLL_INTERVAL = 0.05
COMMAND_TIME_LIMIT = 60 * 60.0
PROCESS_EXIT_WAIT = 5.0
UMOUNT_TIMEOUT = 10.0
LOG_TAIL_LINES = 3

Log = Callable[[str], None]


class EngineUnavailable(Exception):
    """No private Docker Engine can be had here; ``str()`` is one plain sentence saying why."""


@dataclass(frozen=True)
class EngineInfo:
    """A running engine: where it listens and what it is."""

    host: str  # unix:///tmp/kit-engine-.../docker.sock, what DOCKER_HOST would say
    socket_path: str
    root: str  # the temporary directory that holds everything of this engine
    version: str  # dockerd's version, e.g. 20.10.24+dfsg1
    api_version: str  # the highest API version it speaks, e.g. 1.41
    min_api_version: str
    storage_driver: str
    dockerd_pid: int
    image: str  # the image made locally, alpine:latest
    start_seconds: float  # start() until /_ping answered (install excluded)
    import_seconds: float  # building and importing the image
    install_seconds: float  # apt-get, 0 when nothing was installed


def _stderr(message: str) -> None:
    print(f"docker engine: {message}", file=sys.stderr, flush=True)


# --- what is installed -----------------------------------------------------------------------


def find_program(name: str) -> str | None:
    """``name`` on PATH or in the sbin directories (dockerd lives in /usr/sbin)."""
    return shutil.which(name, path=SEARCH_PATH)


def is_static_executable(path: str) -> bool:
    """True for an ELF executable without a program interpreter (runs in an empty rootfs)."""
    try:
        with Path(path).open("rb") as file:
            header = file.read(64)
            if len(header) < 64 or header[:4] != b"\x7fELF" or header[4] != 2:
                return False  # not a 64-bit ELF file
            endian = "<" if header[5] == 1 else ">"
            (phoff,) = struct.unpack_from(f"{endian}Q", header, 0x20)
            phentsize, phnum = struct.unpack_from(f"{endian}HH", header, 0x36)
            file.seek(phoff)
            table = file.read(phentsize * phnum)
    except OSError:
        return False
    for index in range(phnum):
        (kind,) = struct.unpack_from(f"{endian}I", table, index * phentsize)
        if kind == 3:  # PT_INTERP: needs a dynamic loader
            return False
    return True


def find_static_busybox() -> str | None:
    """The statically linked busybox of ``busybox-static``, if installed."""
    for path in BUSYBOX_PATHS:
        if is_static_executable(path):
            return path
    return None


def missing_programs() -> list[str]:
    """What of dockerd, containerd, runc and a static busybox is not installed."""
    missing = [name for name in ("dockerd", "containerd", "runc") if find_program(name) is None]
    if find_static_busybox() is None:
        missing.append("a static busybox")
    return missing


def availability() -> tuple[bool, str]:
    """``(can an engine be had, one sentence why)``, without installing or starting anything."""
    if not hasattr(os, "geteuid") or sys.platform != "linux":
        return False, "a private Docker Engine needs Linux."
    if os.geteuid() != 0:
        return (
            False,
            f"a private Docker Engine needs root, and this process runs as uid {os.geteuid()}.",
        )
    missing = missing_programs()
    if not missing:
        return True, f"dockerd is installed at {find_program('dockerd')}."
    if find_program("apt-get") is None:
        return (
            False,
            f"{_missing(missing)} not installed and there is no apt-get.",
        )
    packages = ", ".join(PACKAGES)
    return True, f"{_missing(missing)} missing; apt-get can install {packages}."


def _missing(items: list[str]) -> str:
    """``dockerd and runc are`` / ``a static busybox is``."""
    return f"{' and '.join(items)} {'is' if len(items) == 1 else 'are'}"


def package_missing(package: str) -> bool:
    """Whether what ``package`` (one of ``PACKAGES``) brings is not installed."""
    if package == "busybox-static":
        return find_static_busybox() is None
    return any(find_program(name) is None for name in ("dockerd", "containerd", "runc"))


def install_packages(
    log: Log,
    *,
    update_timeout: float,
    install_timeout: float,
    packages: tuple[str, ...] = PACKAGES,
) -> float:
    """``apt-get update`` then ``apt-get install`` of ``packages`` (by default ``docker.io`` and
    ``busybox-static``); the seconds it took.

    Services are kept from starting during the install (a system dockerd would claim
    /var/run/docker.sock): a ``policy-rc.d`` that says no is put in place for the install when the
    machine has none. Raises ``EngineUnavailable`` when it is not root or apt-get fails.
    """
    wanted = ", ".join(packages)
    if os.geteuid() != 0:
        raise EngineUnavailable(
            f"installing {wanted} needs root (this process runs as uid {os.geteuid()})."
        )
    if find_program("apt-get") is None:
        raise EngineUnavailable(f"there is no apt-get to install {wanted} with.")
    started = time.monotonic()
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    lock_wait = ["-o", "DPkg::Lock::Timeout=120"]
    steps = (
        (["apt-get", *lock_wait, "update"], update_timeout),
        (
            ["apt-get", *lock_wait, "install", "-y", "--no-install-recommends", *packages],
            install_timeout,
        ),
    )
    with _services_kept_from_starting():
        for command, timeout in steps:
            log(f"running {' '.join(command)} (up to {timeout:g} s)")
            _run_apt(command, env, timeout)
    still_missing = [package for package in packages if package_missing(package)]
    if still_missing:
        raise EngineUnavailable(
            f"apt-get installed {wanted}, but what {', '.join(still_missing)} brings is still "
            "missing."
        )
    return time.monotonic() - started


def _run_apt(command: list[str], env: dict[str, str], timeout: float) -> None:
    shown = " ".join(command)
    try:
        result = subprocess.run(
            command,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise EngineUnavailable(f"'{shown}' did not finish within {timeout:g} s.") from None
    except OSError as error:
        raise EngineUnavailable(f"'{shown}' could not run: {error.strerror}.") from None
    if result.returncode != 0:
        lines = [line for line in (result.stderr or result.stdout).splitlines() if line.strip()]
        why = lines[-1].strip() if lines else "no output"
        raise EngineUnavailable(
            f"'{shown}' failed with exit status {result.returncode}: {why.rstrip('.')}."
        )


@contextlib.contextmanager
def _services_kept_from_starting() -> Iterator[None]:
    policy = Path("/usr/sbin/policy-rc.d")
    if policy.exists():
        yield
        return
    policy.write_text(
        "#!/bin/sh\n# peers.docker_engine: no service starts during its install\nexit 101\n"
    )
    policy.chmod(0o755)
    try:
        yield
    finally:
        policy.unlink(missing_ok=True)


# --- the image -------------------------------------------------------------------------------


def busybox_rootfs(busybox: str) -> bytes:
    """A tar of a minimal root filesystem: the static busybox and a link per applet."""
    links = {f"bin/{name}" for name in REQUIRED_APPLETS}
    try:
        listed = subprocess.run(
            [busybox, "--list-full"], capture_output=True, text=True, timeout=10, check=True
        ).stdout.split()
    except (OSError, subprocess.SubprocessError):
        listed = []
    links.update(path.strip("/") for path in listed if path.strip("/"))
    links.discard("bin/busybox")
    directories = ["bin", "dev", "etc", "home", "proc", "root", "run", "sbin", "sys", "tmp"]
    directories += ["usr", "usr/bin", "usr/sbin", "var", "var/tmp"]
    directories += sorted({str(Path(link).parent) for link in links} - {"."} - set(directories))
    files = {
        "etc/passwd": "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n",
        "etc/group": "root:x:0:\nnogroup:x:65534:\n",
        "etc/os-release": (
            'NAME="busybox"\nID=busybox\nPRETTY_NAME="static busybox rootfs made by '
            'peers.docker_engine, tagged alpine:latest"\n'
        ),
    }
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for directory in directories:
            info = tarfile.TarInfo(directory)
            info.type = tarfile.DIRTYPE
            info.mode = 0o1777 if directory in ("tmp", "var/tmp") else 0o755
            tar.addfile(info)
        data = Path(busybox).read_bytes()
        info = tarfile.TarInfo("bin/busybox")
        info.size, info.mode = len(data), 0o755
        tar.addfile(info, io.BytesIO(data))
        for link in sorted(links):
            info = tarfile.TarInfo(link)
            info.type, info.linkname, info.mode = tarfile.SYMTYPE, "/bin/busybox", 0o777
            tar.addfile(info)
        for name, text in files.items():
            payload = text.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(payload), 0o644
            tar.addfile(info, io.BytesIO(payload))
    return buffer.getvalue()


# --- talking to the engine -------------------------------------------------------------------


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._path)
        except BaseException:
            sock.close()
            raise
        self.sock = sock


def api_call(
    socket_path: str,
    method: str,
    path: str,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = API_TIMEOUT,
) -> tuple[int, dict[str, str], bytes]:
    """One request to the engine (unversioned path): ``(status, lower-cased headers, body)``."""
    connection = _UnixConnection(socket_path, timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        data = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data
    finally:
        connection.close()


def running_engine(host: str) -> EngineInfo:
    """``EngineInfo`` of an engine that is already running at ``host`` (``unix://...``), e.g. the
    one ``run`` hands to its command in ``KIT_DOCKER_ENGINE_HOST``; timings are 0, the pid -1.

    Raises ``EngineUnavailable`` when it does not answer or lacks the image.
    """
    socket_path = host.removeprefix("unix://")
    try:
        _, _, version_body = api_call(socket_path, "GET", "/version", timeout=10.0)
        _, _, info_body = api_call(socket_path, "GET", "/info", timeout=10.0)
        image_status, _, _ = api_call(socket_path, "GET", f"/images/{IMAGE}/json", timeout=10.0)
        version, engine_info = json.loads(version_body), json.loads(info_body)
    except (OSError, http.client.HTTPException, ValueError) as error:
        raise EngineUnavailable(f"the engine at {host} does not answer: {error}.") from None
    if image_status != 200:
        raise EngineUnavailable(f"the engine at {host} has no {IMAGE} image.")
    return EngineInfo(
        host=host,
        socket_path=socket_path,
        root=str(Path(socket_path).parent),
        version=str(version.get("Version", "?")),
        api_version=str(version.get("ApiVersion", "?")),
        min_api_version=str(version.get("MinAPIVersion", "?")),
        storage_driver=str(engine_info.get("Driver", "?")),
        dockerd_pid=-1,
        image=IMAGE,
        start_seconds=0.0,
        import_seconds=0.0,
        install_seconds=0.0,
    )


# --- processes, mounts and cgroups of one engine directory -----------------------------------


def _start_time(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[-1].split()[19]  # field 22: start time in clock ticks


def _owner_alive(root: Path) -> bool:
    try:
        pid_text, started = (root / "owner").read_text().split()
    except (OSError, ValueError):
        return False
    return _start_time(int(pid_text)) == started


def processes_of(root: Path) -> list[int]:
    """Processes whose command line names ``root`` (dockerd, containerd, shims), not ourselves."""
    needle = str(root).encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        # --data-root=/tmp/kit-engine-x/data, -address /tmp/kit-engine-x/containerd/...
        if any(arg.endswith(needle) or needle + b"/" in arg for arg in cmdline.split(b"\0")):
            found.append(int(entry.name))
    return found


def _cgroup_dirs(name: str) -> list[Path]:
    """This engine's cgroup directories in every hierarchy, deepest first."""
    base = Path("/sys/fs/cgroup")
    roots = [base / name, *(child / name for child in _subdirs(base))]
    found: list[Path] = []
    for root in roots:
        if root.is_dir():
            found.extend(path for path in root.rglob("*") if path.is_dir())
            found.append(root)
    return sorted(set(found), key=lambda path: len(path.parts), reverse=True)


def _subdirs(path: Path) -> list[Path]:
    try:
        return [child for child in path.iterdir() if child.is_dir()]
    except OSError:
        return []


def _cgroup_processes(directories: list[Path]) -> list[int]:
    pids: set[int] = set()
    for directory in directories:
        with contextlib.suppress(OSError, ValueError):
            pids.update(int(line) for line in (directory / "cgroup.procs").read_text().split())
    pids.discard(os.getpid())
    return sorted(pids)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _kill_all(pids: list[int], timeout: float) -> list[int]:
    """SIGKILL ``pids`` and wait (bounded) until they are gone; those still there."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    left = [pid for pid in pids if _alive(pid)]
    while left and time.monotonic() < deadline:
        time.sleep(POLL_INTERVAL)
        left = [pid for pid in left if _alive(pid)]
    return left


def mounts_under(root: Path) -> list[str]:
    """Mount points at or below ``root`` (from /proc/self/mountinfo), deepest first."""
    prefix = str(root)
    found = []
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/mountinfo").read_text().splitlines():
            fields = line.split(" ")
            if len(fields) < 5:
                continue
            point = _unescape_mount_path(fields[4])
            if point == prefix or point.startswith(prefix + "/"):
                found.append(point)
    return sorted(set(found), key=lambda point: (point.count("/"), point), reverse=True)


def _unescape_mount_path(text: str) -> str:
    """mountinfo writes space, tab, newline and backslash as ``\\040``-style octal escapes."""
    out, index = [], 0
    while index < len(text):
        chunk = text[index : index + 4]
        if len(chunk) == 4 and chunk[0] == "\\" and chunk[1:].isdigit():
            out.append(chr(int(chunk[1:], 8)))
            index += 4
        else:
            out.append(text[index])
            index += 1
    return "".join(out)


def _unmount_all(root: Path) -> list[str]:
    for _ in range(3):
        points = mounts_under(root)
        if not points:
            return []
        for point in points:
            with contextlib.suppress(OSError, subprocess.SubprocessError):
                subprocess.run(
                    ["umount", "-l", point],
                    capture_output=True,
                    timeout=UMOUNT_TIMEOUT,
                    check=False,
                )
    return mounts_under(root)


def teardown_directory(root: Path, *, cgroup_name: str | None = None) -> list[str]:
    """Kill what belongs to the engine in ``root``, unmount, drop cgroups, remove the directory.

    Returns what could not be cleaned, one plain phrase each (empty when all went).
    """
    problems: list[str] = []
    cgroup_name = cgroup_name or root.name
    created_bridge = (root / BRIDGE_MARKER).exists()
    pids = sorted(set(processes_of(root)) | set(_cgroup_processes(_cgroup_dirs(cgroup_name))))
    survivors = _kill_all(pids, PROCESS_EXIT_WAIT)
    if survivors:
        problems.append(f"processes {survivors} survived SIGKILL")
    mounts = _unmount_all(root)
    if mounts:
        problems.append(f"mounts still in place: {', '.join(mounts)}")
    deadline = time.monotonic() + PROCESS_EXIT_WAIT
    cgroups = _cgroup_dirs(cgroup_name)
    while cgroups and time.monotonic() < deadline:
        for directory in cgroups:
            with contextlib.suppress(OSError):
                directory.rmdir()
        cgroups = _cgroup_dirs(cgroup_name)
        if cgroups:
            time.sleep(POLL_INTERVAL)
    if cgroups:
        problems.append(f"cgroups still there: {', '.join(map(str, cgroups))}")
    if not mounts:  # never recurse into a mount we could not detach
        shutil.rmtree(root, ignore_errors=True)
        if root.exists():
            problems.append(f"{root} could not be removed")
    if created_bridge:
        _remove_bridge(root)
    return problems


def _remove_bridge(own: Path) -> None:
    """Delete docker0 unless something is attached or another engine of ours may use it."""
    bridge = Path(f"/sys/class/net/{BRIDGE}")
    if not bridge.exists() or _subdirs(bridge / "brif") or _other_live_engines(own):
        return
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        subprocess.run(
            ["ip", "link", "delete", BRIDGE], capture_output=True, timeout=10, check=False
        )


def _engine_directories() -> list[Path]:
    return sorted(Path(TEMP_PARENT).glob(f"{TEMP_PREFIX}*"))


def reap_stale_engines(log: Log) -> None:
    """Clean the directories of engines whose owning process died (e.g. by SIGKILL)."""
    for root in _engine_directories():
        if root.is_dir() and (root / "owner").exists() and not _owner_alive(root):
            problems = teardown_directory(root)
            log(
                f"cleaned up after a dead run: {root}"
                + (f" ({'; '.join(problems)})" if problems else "")
            )


def _other_live_engines(own: Path | None) -> bool:
    return any(
        root != own and (root / "owner").exists() and _owner_alive(root)
        for root in _engine_directories()
    )


# --- the engine ------------------------------------------------------------------------------


_LIVE: list[PrivateDockerEngine] = []
_LIVE_LOCK = threading.Lock()
_PREVIOUS_HANDLERS: dict[int, Any] = {}
_EXIT_HOOK_INSTALLED = False


def stop_all_engines() -> None:
    """Stop every engine this process started (atexit and signal handlers call this)."""
    with _LIVE_LOCK:
        engines = list(_LIVE)
    for engine in engines:
        engine.stop()


def _on_signal(signum: int, frame: FrameType | None) -> None:
    stop_all_engines()
    previous = _PREVIOUS_HANDLERS.get(signum, signal.SIG_DFL)
    if callable(previous):
        previous(signum, frame)
        return
    if previous == signal.SIG_IGN:
        return
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _install_exit_hooks() -> None:
    global _EXIT_HOOK_INSTALLED  # noqa: PLW0603 - one process-wide registration
    if _EXIT_HOOK_INSTALLED:
        return
    _EXIT_HOOK_INSTALLED = True
    atexit.register(stop_all_engines)
    if threading.current_thread() is not threading.main_thread():
        return  # signal handlers can only be set from the main thread; atexit still covers us
    for signum in (signal.SIGTERM, signal.SIGHUP):
        previous = signal.getsignal(signum)
        if previous is _on_signal:
            continue
        _PREVIOUS_HANDLERS[signum] = previous
        signal.signal(signum, _on_signal)


class PrivateDockerEngine:
    """A Docker Engine of its own in a temporary directory; see the module docstring.

    Use ``with PrivateDockerEngine() as engine:`` (``engine.info.host`` is the address), or
    ``start()`` and ``stop()``.
    """

    def __init__(
        self,
        *,
        install: bool = True,
        start_timeout: float = START_TIMEOUT,
        stop_timeout: float = STOP_TIMEOUT,
        update_timeout: float = APT_UPDATE_TIMEOUT,
        install_timeout: float = APT_INSTALL_TIMEOUT,
        log: Log | None = None,
    ) -> None:
        self.install = install
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.update_timeout = update_timeout
        self.install_timeout = install_timeout
        self.log: Log = log or (lambda message: None)
        self.root: Path | None = None
        self._info: EngineInfo | None = None
        self._dockerd: subprocess.Popen[bytes] | None = None
        self._containerd: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._stopped = False

    @property
    def info(self) -> EngineInfo:
        """The running engine (``RuntimeError`` before ``start()`` succeeded)."""
        if self._info is None:
            raise RuntimeError("the private Docker Engine is not running")
        return self._info

    @property
    def host(self) -> str:
        """``unix://<tmp>/docker.sock``."""
        return self.info.host

    def __enter__(self) -> PrivateDockerEngine:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> EngineInfo:
        """Install if needed, start containerd and dockerd, import the image; bounded in time."""
        if self._info is not None:
            return self._info
        if self._stopped:
            raise RuntimeError("a stopped PrivateDockerEngine cannot be started again")
        usable, why = availability()
        if not usable:
            raise EngineUnavailable(why)
        install_seconds = 0.0
        missing = missing_programs()
        if missing:
            if not self.install:
                raise EngineUnavailable(
                    f"{_missing(missing)} not installed, and installing was not allowed."
                )
            install_seconds = install_packages(
                self.log, update_timeout=self.update_timeout, install_timeout=self.install_timeout
            )
        reap_stale_engines(self.log)
        with _LIVE_LOCK:
            _LIVE.append(self)
        _install_exit_hooks()
        try:
            return self._start(install_seconds)
        except BaseException:
            self.stop()
            raise

    def _start(self, install_seconds: float) -> EngineInfo:
        started = time.monotonic()
        deadline = started + self.start_timeout
        self.root = root = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=TEMP_PARENT))
        (root / "owner").write_text(f"{os.getpid()} {_start_time(os.getpid())}\n")
        if not Path(f"/sys/class/net/{BRIDGE}").exists():
            (root / BRIDGE_MARKER).write_text(f"dockerd of this engine creates {BRIDGE}\n")
        containerd_socket = self._start_containerd(root, deadline)
        socket_path = str(root / "docker.sock")
        self._start_dockerd(root, socket_path, containerd_socket)
        self._wait_for_ping(socket_path, deadline)
        start_seconds = time.monotonic() - started
        _, _, version_body = api_call(socket_path, "GET", "/version")
        version = json.loads(version_body)
        _, _, info_body = api_call(socket_path, "GET", "/info")
        engine_info = json.loads(info_body)
        import_started = time.monotonic()
        self._import_image(socket_path)
        import_seconds = time.monotonic() - import_started
        assert self._dockerd is not None
        self._info = EngineInfo(
            host=f"unix://{socket_path}",
            socket_path=socket_path,
            root=str(root),
            version=str(version.get("Version", "?")),
            api_version=str(version.get("ApiVersion", "?")),
            min_api_version=str(version.get("MinAPIVersion", "?")),
            storage_driver=str(engine_info.get("Driver", "?")),
            dockerd_pid=self._dockerd.pid,
            image=IMAGE,
            start_seconds=start_seconds,
            import_seconds=import_seconds,
            install_seconds=install_seconds,
        )
        return self._info

    def _start_containerd(self, root: Path, deadline: float) -> str:
        """Our own containerd (never the system one, whose socket dockerd would pick up)."""
        base = root / "containerd"
        base.mkdir()
        address = str(base / "containerd.sock")
        config = base / "config.toml"
        config.write_text(
            "version = 2\n"
            f'root = "{base}/root"\n'
            f'state = "{base}/state"\n'
            'disabled_plugins = ["io.containerd.grpc.v1.cri"]\n'
            "[grpc]\n"
            f'  address = "{address}"\n'
            '[plugins."io.containerd.internal.v1.opt"]\n'
            f'  path = "{base}/opt"\n'
        )
        containerd = find_program("containerd")
        assert containerd is not None  # availability() checked it
        self._containerd = self._spawn(
            [containerd, "--config", str(config), "--log-level", "warn"], root / "containerd.log"
        )
        while not _socket_answers(address):
            self._check_running(self._containerd, "containerd", root / "containerd.log")
            if time.monotonic() > deadline:
                raise EngineUnavailable(
                    f"containerd did not open its socket within {self.start_timeout:g} s."
                )
            time.sleep(POLL_INTERVAL)
        return address

    def _start_dockerd(self, root: Path, socket_path: str, containerd_socket: str) -> None:
        config = root / "daemon.json"
        config.write_text("{}\n")
        dockerd = find_program("dockerd")
        assert dockerd is not None
        options = {
            "--host": f"unix://{socket_path}",
            "--data-root": str(root / "data"),
            "--exec-root": str(root / "exec"),
            "--pidfile": str(root / "docker.pid"),
            "--config-file": str(config),  # never /etc/docker/daemon.json
            "--containerd": containerd_socket,  # never the system containerd
            "--storage-driver": "vfs",  # works on any file system; the image is 2 MB
            "--iptables": "false",  # another engine's chains are left alone
            "--ip-masq": "false",
            "--ip-forward": "false",  # no kernel setting is changed
            "--userland-proxy": "false",
            "--cgroup-parent": f"/{root.name}",  # teardown finds every container process here
            "--exec-opt": "native.cgroupdriver=cgroupfs",
            "--shutdown-timeout": "2",
            "--log-level": "warn",
        }
        command = [dockerd, *(f"{name}={value}" for name, value in options.items())]
        self._dockerd = self._spawn(command, root / "dockerd.log")

    def _spawn(self, command: list[str], log_path: Path) -> subprocess.Popen[bytes]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DOCKER_", "CONTAINERD_"))
        }
        env["PATH"] = SEARCH_PATH
        with log_path.open("ab") as log_file:
            return subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,  # a Ctrl-C reaches us, and we stop it in order
            )

    def _check_running(self, process: subprocess.Popen[bytes], name: str, log: Path) -> None:
        code = process.poll()
        if code is not None:
            raise EngineUnavailable(f"{name} exited with status {code} at start: {_tail(log)}.")

    def _wait_for_ping(self, socket_path: str, deadline: float) -> None:
        assert self._dockerd is not None and self.root is not None
        while True:
            self._check_running(self._dockerd, "dockerd", self.root / "dockerd.log")
            with contextlib.suppress(OSError, http.client.HTTPException):
                status, _, body = api_call(socket_path, "GET", "/_ping", timeout=2.0)
                if status == 200 and body.strip() == b"OK":
                    return
            if time.monotonic() > deadline:
                raise EngineUnavailable(
                    f"dockerd did not answer /_ping within {self.start_timeout:g} s: "
                    f"{_tail(self.root / 'dockerd.log')}."
                )
            time.sleep(POLL_INTERVAL)

    def _import_image(self, socket_path: str) -> None:
        busybox = find_static_busybox()
        assert busybox is not None
        rootfs = busybox_rootfs(busybox)
        query = urlencode(
            [
                ("fromSrc", "-"),
                ("repo", IMAGE_REPOSITORY),
                ("tag", IMAGE_TAG),
                ("changes", 'CMD ["/bin/sh"]'),
                ("changes", f"ENV PATH={CONTAINER_PATH}"),
            ]
        )
        status, _, body = api_call(
            socket_path,
            "POST",
            f"/images/create?{query}",
            body=rootfs,
            headers={"Content-Type": "application/x-tar"},
        )
        messages = [json.loads(line) for line in body.splitlines() if line.strip()]
        errors = [str(m.get("error") or m.get("errorDetail")) for m in messages if "error" in m]
        if status != 200 or errors:
            why = errors[0] if errors else body.decode(errors="replace").strip()
            raise EngineUnavailable(f"importing {IMAGE} failed with HTTP {status}: {why}.")
        status, _, _ = api_call(socket_path, "GET", f"/images/{IMAGE}/json")
        if status != 200:
            raise EngineUnavailable(f"{IMAGE} is not there after its import (HTTP {status}).")

    def stop(self) -> None:
        """Stop dockerd and containerd, then kill, unmount and remove what is left. Idempotent.

        Every wait is bounded; what could not be cleaned is reported through ``log``.
        """
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        try:
            if self.root is not None:
                # Containers are throwaway: killing them first spares dockerd's shutdown its
                # 10 s grace for each one whose PID 1 ignores SIGTERM (``tail -f /dev/null``).
                _kill_all(_cgroup_processes(_cgroup_dirs(self.root.name)), PROCESS_EXIT_WAIT)
            _terminate(self._dockerd, self.stop_timeout)
            _terminate(self._containerd, PROCESS_EXIT_WAIT)
            if self.root is not None:
                problems = teardown_directory(self.root)
                if problems:
                    self.log(f"cleanup of {self.root} incomplete: {'; '.join(problems)}")
        finally:
            self._info = None
            with _LIVE_LOCK:
                if self in _LIVE:
                    _LIVE.remove(self)


def _socket_answers(path: str) -> bool:
    if not Path(path).exists():
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        try:
            probe.connect(path)
        except OSError:
            return False
    return True


def _terminate(process: subprocess.Popen[bytes] | None, timeout: float) -> None:
    """SIGTERM, wait up to ``timeout``, then SIGKILL and wait a little more."""
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(PROCESS_EXIT_WAIT)


def _tail(log: Path) -> str:
    try:
        lines = [line.strip() for line in log.read_text(errors="replace").splitlines()]
    except OSError:
        return "no log"
    lines = [line for line in lines if line]
    return " | ".join(lines[-LOG_TAIL_LINES:]) if lines else "nothing in its log"


# --- command line ----------------------------------------------------------------------------


def _run_command(command: list[str], env: dict[str, str]) -> int:
    """Run ``command``; SIGTERM/SIGHUP/SIGINT sent to us are passed on to it."""
    try:
        child = subprocess.Popen(command, env=env)
    except OSError as error:
        _stderr(f"cannot run {command[0]}: {error.strerror}")
        return 127

    def forward(signum: int, frame: FrameType | None) -> None:
        with contextlib.suppress(ProcessLookupError):
            child.send_signal(signum)

    previous = {
        sig: signal.signal(sig, forward) for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)
    }
    try:
        try:
            code = child.wait(COMMAND_TIME_LIMIT)
        except subprocess.TimeoutExpired:
            _stderr(f"{command[0]} overran {COMMAND_TIME_LIMIT:g} s; killing it")
            child.kill()
            code = child.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 128 - code if code < 0 else code


def main(argv: list[str]) -> int:
    """``run``, ``check`` and ``install``; see the module docstring."""
    parser = argparse.ArgumentParser(
        prog="python -m peers.docker_engine",
        description="A private, real Docker Engine for the project's own checks.",
    )
    commands = parser.add_subparsers(dest="action", required=True)
    run = commands.add_parser("run", help="start the engine, run COMMAND with its address, stop it")
    run.add_argument(
        "--env-var",
        default=DEFAULT_ENV_VAR,
        help=f"variable that gets unix://<tmp>/docker.sock (default {DEFAULT_ENV_VAR})",
    )
    run.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND [ARG...]")
    check = commands.add_parser("check", help="say whether an engine can be had here")
    check.add_argument(
        "--start",
        action="store_true",
        help="prove it: start an engine (installing if needed) and stop it",
    )
    install = commands.add_parser(
        "install",
        help="install what an engine needs (docker.io, busybox-static), or only the packages "
        "named, when missing (root and apt-get); exit 77 when it cannot",
    )
    install.add_argument("packages", nargs="*", metavar="PACKAGE", help=" or ".join(PACKAGES))
    install.add_argument("--update-timeout", type=float, default=APT_UPDATE_TIMEOUT)
    install.add_argument("--install-timeout", type=float, default=APT_INSTALL_TIMEOUT)
    options = parser.parse_args(argv)
    if options.action == "check":
        return _check(start=options.start)
    if options.action == "install":
        unknown = sorted(set(options.packages) - set(PACKAGES))
        if unknown:
            parser.error(f"unknown package {', '.join(unknown)}: choose from {', '.join(PACKAGES)}")
        return _install(
            tuple(options.packages) or PACKAGES, options.update_timeout, options.install_timeout
        )
    command = options.command[1:] if options.command[:1] == ["--"] else options.command
    if not command:
        parser.error("give the command to run after --")
    return _run(command, options.env_var)


def _check(*, start: bool) -> int:
    usable, why = availability()
    if usable and start:
        try:
            with PrivateDockerEngine(log=_stderr) as engine:
                info = engine.info
                why = (
                    f"started Docker {info.version} (API {info.api_version}, "
                    f"{info.storage_driver}) in {info.start_seconds:.1f} s and imported "
                    f"{info.image} in {info.import_seconds:.1f} s."
                )
        except EngineUnavailable as error:
            usable, why = False, str(error)
    state = "available" if usable else "unavailable"
    print(f"docker engine: {state}: {why}", flush=True)
    return 0 if usable else UNAVAILABLE_EXIT_CODE


def _install(packages: tuple[str, ...], update_timeout: float, install_timeout: float) -> int:
    missing = tuple(package for package in packages if package_missing(package))
    if not missing:
        print(f"docker engine: installed: {', '.join(packages)}", flush=True)
        return 0
    try:
        seconds = install_packages(
            _stderr,
            update_timeout=update_timeout,
            install_timeout=install_timeout,
            packages=missing,
        )
    except EngineUnavailable as error:
        print(f"docker engine: not installed: {', '.join(missing)}: {error}", flush=True)
        return UNAVAILABLE_EXIT_CODE
    print(f"docker engine: installed {', '.join(missing)} in {seconds:.0f} s", flush=True)
    return 0


def _run(command: list[str], env_var: str) -> int:
    engine = PrivateDockerEngine(log=_stderr)
    try:
        info = engine.start()
    except EngineUnavailable as error:
        print(f"docker engine: unavailable: {error}", flush=True)
        return UNAVAILABLE_EXIT_CODE
    try:
        _stderr(
            f"ready: {env_var}={info.host} (Docker {info.version}, API {info.api_version}, "
            f"{info.storage_driver}; started in {info.start_seconds:.1f} s, {info.image} "
            f"imported in {info.import_seconds:.1f} s)"
        )
        return _run_command(command, {**os.environ, env_var: info.host})
    finally:
        stopping = time.monotonic()
        engine.stop()
        _stderr(f"stopped in {time.monotonic() - stopping:.1f} s")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
