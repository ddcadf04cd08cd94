"""Container keywords: create, start, inspect, list, stop, kill, wait, remove, and checks."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from robot.api.deco import keyword

from ..arguments import ANY_STATUS, parse_expected_status, seconds
from ..capping import cap, cap_lines
from ..create_options import container_create_body, stop_seconds
from ..listeners.log import debug, log
from ..run.creation import CreateInFlight, kit_labels
from ..waits.exit_wait import ExitWait, container_state, describe_state
from . import LibraryComponent

_CONTAINER_ID = re.compile(r"^[0-9a-f]{64}$")


class ContainerKeywords(LibraryComponent):
    """Docker container operations, each mapped onto one Docker Engine API call."""

    @keyword(tags=("Container",))
    def create_container(
        self,
        image: str,
        *command: str,
        entrypoint: list[str] | str | None = None,
        env: dict[str, Any] | list[str] | None = None,
        working_dir: str | None = None,
        user: str | None = None,
        labels: dict[str, Any] | None = None,
        stop_signal: str | None = None,
        stop_timeout: int | None = None,
        tty: bool | None = None,
        open_stdin: bool | None = None,
        config: dict[str, Any] | None = None,
        host_config: dict[str, Any] | None = None,
        name: str | None = None,
        expected_status: int | str = 201,
    ) -> str | None:
        """Creates a container (``POST /containers/create``) and returns its ID.

        | =Arguments= | =Description= |
        | ``image`` | Image reference, e.g. ``alpine:latest``. |
        | ``*command`` | The command (``Cmd``), one argument per cell. |
        | ``entrypoint`` | ``Entrypoint`` as a list (or one string: one word). |
        | ``env`` | ``Env``: a dictionary (``&{env}``) or a list of ``KEY=value``; see below. |
        | ``working_dir`` | ``WorkingDir``: the directory the command (and exec) starts in. |
        | ``user`` | ``User``, e.g. ``nobody`` or ``1000:1000``. |
        | ``labels`` | ``Labels`` as a dictionary; the library adds two of its own, see below. |
        | ``stop_signal`` | ``StopSignal``, e.g. ``SIGINT``. |
        | ``stop_timeout`` | ``StopTimeout``: seconds between the stop signal and SIGKILL. |
        | ``tty`` | ``Tty``: allocate a TTY (logs then come back raw, not multiplexed). |
        | ``open_stdin`` | ``OpenStdin``: keep the main process's stdin open. |
        | ``config`` | Any other create field, as a dictionary merged into the body. |
        | ``host_config`` | A dictionary merged into the body's ``HostConfig``. |
        | ``name`` | Container name (see `Generate Container Name`). |
        | ``expected_status`` | See `Expected status`. |

        *Options are checked* (see `Options`): a misspelt ``workdir=/tmp`` fails before
        anything is sent and never becomes a command word; a command word that really
        contains ``=`` is written with each ``=`` escaped: ``FOO\\=bar``. A field given both as
        an option and in ``config`` (``env=`` and ``config={"Env": ...}``) fails too.

        ``env`` values are sent as text; a value of ``${NONE}`` is refused (Docker would read a
        bare ``KEY`` as "remove it"): leave the variable out, or give ``${EMPTY}``. A list item
        must read ``KEY=value``. ``stop_timeout`` may not be negative.

        The labels ``sockerless-kit.run-id=<run id>`` and
        ``sockerless-kit.project=sockerless-ecs-acceptance`` are always added (``labels`` may
        not set them). Before this keyword returns, the new container is registered for
        cleanup at the end of the current test (or suite, when called from a suite setup) and
        written to the run journal, so it is cleaned up even if the test fails or the run is
        killed. Returns ``None`` when the daemon answered an expected error status without an
        ID.

        When the keyword is cut short before the daemon's answer (Ctrl-C, a Robot timeout,
        the read timeout, a dropped connection), the daemon may still make the container.
        The cleanup of the scope then looks for it among this run's labelled containers (by
        ``name`` when given) until its answer was due, and cleans it like any other.

        Every create counts against the run's `Fargate task budget`; one beyond it fails
        before anything is sent to the daemon.

        Example:
        | ${id}= | Create Container | alpine:latest | echo | hello from fargate | |
        | ${id}= | Create Container | alpine:latest | tail | -f | /dev/null | name=${name} |
        | ${id}= | Create Container | alpine:latest | pwd | working_dir=/tmp | env=${env} |
        | ${id}= | Create Container | alpine:latest | env | labels=${labels} | user=nobody |
        | ${id}= | Create Container | alpine:latest | true | host_config={"Memory": 536870912} | |
        | Create Container | alpine:latest | name=${taken} | expected_status=409 | | |
        """
        expected = parse_expected_status(expected_status)
        # A bad option fails here, before the budget counts the create or anything is sent.
        body = container_create_body(
            image,
            command,
            kit_labels(self.ctx),
            entrypoint=entrypoint,
            env=env,
            working_dir=working_dir,
            user=user,
            labels=labels,
            stop_signal=stop_signal,
            stop_timeout=stop_timeout,
            tty=tty,
            open_stdin=open_stdin,
            config=config,
            host_config=host_config,
        )
        create = CreateInFlight.begin(self.ctx, name)  # beyond the budget this fails, unsent
        try:
            answer = self.client.create_container_from_body(body, name=name, expected=expected)
        except Exception as error:
            create.failed(error)
            raise
        return create.answered(answer, tty=bool(body.get("Tty")), image=image)

    @keyword(tags=("Container",))
    def start_container(
        self,
        container_id: str,
        *,
        timeout: timedelta | None = None,
        expected_status: int | str = 204,
    ) -> int:
        """Starts the container (``POST /containers/{id}/start``); returns the HTTP status.

        | =Arguments= | =Description= |
        | ``container_id`` | Container ID or name. |
        | ``timeout`` | How long the daemon may take to answer (default: ``start_timeout``). |
        | ``expected_status`` | See `Expected status`; ``304`` means already started. |

        sockerless answers only once the Fargate task is RUNNING, which takes 10-45 s on AWS.

        Example:
        | Start Container | ${id} | | |
        | Start Container | ${id} | timeout=330s | |
        | Start Container | ${id} | expected_status=204,304 | |
        """
        status = self.client.start_container(
            container_id,
            expected=parse_expected_status(expected_status),
            timeout=self.ctx.timeouts(read=seconds(timeout, self.ctx.settings.start_timeout)),
        )
        log(f"Start of {container_id} answered {status}")
        return int(status)

    @keyword(tags=("Container",))
    def inspect_container(
        self, container_id: str, *, expected_status: int | str = 200
    ) -> dict[str, Any]:
        """Returns ``GET /containers/{id}/json`` as a dictionary.

        With an expected error status (e.g. ``404``) it returns the error body, e.g.
        ``{"message": "No such container: ..."}``.

        Example:
        | ${inspect}= | Inspect Container | ${id} | |
        | Should Be Equal | ${inspect}[State][Status] | running | msg=State.Status |
        | Inspect Container | ${id} | expected_status=404 | |
        """
        body = self.client.inspect_container(
            container_id, expected=parse_expected_status(expected_status)
        )
        debug(f"Inspect {container_id}: {cap_lines(json.dumps(body, indent=1))}")
        return dict(body)

    @keyword(tags=("Container",))
    def list_containers(
        self, *, all: bool = False, filters: dict[str, Any] | str | None = None
    ) -> list[dict[str, Any]]:
        """Returns ``GET /containers/json`` as a list of dictionaries.

        | =Arguments= | =Description= |
        | ``all`` | Also list containers that are not running. |
        | ``filters`` | Docker filters as a dictionary or a JSON string. |

        Both filter shapes work: ``{"label": ["k=v"]}`` and ``{"label": {"k=v": true}}``.

        Booleans are sent as lowercase ``true``/``false`` (sockerless ignores ``True``).

        Example:
        | ${all}= | List Containers | all=${TRUE} | |
        | ${mine}= | List Containers | all=${TRUE} | filters={"label": ["test-run=ecs"]} |
        """
        entries = self.client.list_containers(all=all, filters=filters)
        log(f"{len(entries)} container(s) listed (all={all}, filters={filters})")
        return [dict(entry) for entry in entries]

    @keyword(tags=("Container",))
    def stop_container(
        self,
        container_id: str,
        *,
        stop_timeout: int | None = None,
        timeout: timedelta | None = None,
        expected_status: int | str = 204,
    ) -> int:
        """Stops the container (``POST /containers/{id}/stop``); returns the HTTP status.

        | =Arguments= | =Description= |
        | ``stop_timeout`` | Seconds between the stop signal and the kill (Docker's ``t``). |
        | ``timeout`` | How long the daemon may answer. Default: ``stop_timeout`` import argument. |
        | ``expected_status`` | See `Expected status`; ``304`` means already stopped. |

        ``stop_timeout`` is sent as Docker's query parameter ``t`` and means what
        `Create Container`'s ``stop_timeout`` means; without it the container's own applies.
        ``0`` kills at once; a negative value is refused before anything is sent.

        Example:
        | Stop Container | ${id} | | |
        | Stop Container | ${id} | stop_timeout=0 | timeout=60s |
        """
        status = self.client.stop_container(
            container_id,
            t=stop_seconds(stop_timeout),
            expected=parse_expected_status(expected_status),
            timeout=self.ctx.timeouts(read=seconds(timeout, self.ctx.settings.stop_timeout)),
        )
        log(f"Stop of {container_id} answered {status}")
        return int(status)

    @keyword(tags=("Container",))
    def kill_container(
        self,
        container_id: str,
        *,
        signal: str = "SIGKILL",
        expected_status: int | str = 204,
    ) -> int:
        """Kills the container (``POST /containers/{id}/kill?signal=...``); returns the HTTP
        status.

        ``signal`` is SIGKILL unless given (Docker's own default), and is always sent by
        name, so every daemon gets the same request: a daemon that fills in a missing signal
        itself may record none (sockerless maps kill to ECS StopTask and records only a named
        signal). A container killed with SIGKILL exits with 137 (128 + 9); check it with
        `Container Should Have Exited With Code`.

        Example:
        | Kill Container | ${id} | |
        | Container Should Have Exited With Code | ${id} | 137 |
        | Kill Container | ${id} | signal=SIGTERM |
        """
        status = self.client.kill_container(
            container_id, signal=signal, expected=parse_expected_status(expected_status)
        )
        log(f"Kill of {container_id} ({signal}) answered {status}")
        return int(status)

    @keyword(tags=("Container", "Wait"))
    def wait_until_container_is_not_running(
        self, container_id: str, *, timeout: timedelta | None = None
    ) -> dict[str, Any]:
        """Waits until the container no longer runs and returns its inspect result: the one
        wait for a container (to also check its exit code, on the daemon and on ECS, use
        `Container Should Have Exited With Code`).

        | =Arguments= | =Description= |
        | ``container_id`` | Container ID or name. |
        | ``timeout`` | The whole wait's budget. Default: the ``start_timeout`` import argument. |

        Blocks on ``POST /containers/{id}/wait?condition=not-running`` (one request however
        long the wait, where polling would cost sockerless a ``DescribeTasks`` per probe), with
        ``timeout`` as its read deadline, then reads inspect once and returns it. Should that
        inspect still show the container running, inspect is polled until ``State.Status`` is
        ``exited``. A container that never started (``created``) is returned as it is.

        A daemon that does not support the wait (``405``, ``501``, or a ``404`` that is not
        ``No such container``) is polled instead: inspect with back-off (0.5 s doubling to 2 s)
        until ``State.Status`` is ``exited``; this is logged once per daemon, and later waits on
        it poll straight away. A wait that never answers fails at the deadline, naming the
        container, the condition, the timeout and what inspect shows then.

        Example:
        | ${inspect}= | Wait Until Container Is Not Running | ${id} | timeout=120s |
        | Should Be Equal | ${inspect}[State][Status] | exited | msg=State.Status |
        | Should Be Equal As Integers | ${inspect}[State][ExitCode] | 0 | |
        """
        budget = seconds(timeout, self.ctx.settings.start_timeout)
        return ExitWait(self.ctx, container_id, budget).run()

    @keyword(tags=("Container",))
    def remove_container(
        self, container_id: str, *, force: bool = False, expected_status: int | str = 204
    ) -> int:
        """Removes the container (``DELETE /containers/{id}``); returns the HTTP status.

        This does not clean the AWS side beyond what the daemon does; see `Clean Up Container`.

        Example:
        | Remove Container | ${id} | | |
        | Remove Container | ${id} | force=${TRUE} | |
        | Remove Container | ${id} | expected_status=409 | |
        """
        status = self.client.remove_container(
            container_id, force=force, expected=parse_expected_status(expected_status)
        )
        log(f"Remove of {container_id} (force={force}) answered {status}")
        return int(status)

    @keyword(tags=("Container",))
    def get_container_status(self, container_id: str) -> str:
        """Returns ``State.Status`` from inspect (``created``, ``running``, ``exited``...).

        Example:
        | ${status}= | Get Container Status | ${id} |
        """
        status = str(container_state(self.client.inspect_container(container_id)).get("Status", ""))
        log(f"Container {container_id} is {status}")
        return status

    @keyword("Get Container IP Address", tags=("Container",))
    def get_container_ip_address(self, container: str | dict[str, Any]) -> str:
        """Returns the container's IP address, from inspect.

        ``container`` is an ID/name or an inspect dictionary. The address is
        ``NetworkSettings.IPAddress`` or, when that is empty or absent (real sockerless never
        fills it), the first non-empty ``NetworkSettings.Networks[*].IPAddress``. The log says
        which field was used; the failure shows ``NetworkSettings`` when none has an address.

        Example:
        | ${ip}= | Get Container IP Address | ${id} |
        | ${ip}= | Get Container IP Address | ${inspect} |
        """
        inspect = (
            container
            if isinstance(container, Mapping)
            else self.client.inspect_container(container)
        )
        settings = inspect.get("NetworkSettings") or {}
        top_level = settings.get("IPAddress")
        if top_level:
            log(f"IP address {top_level} from NetworkSettings.IPAddress")
            return str(top_level)
        for network, details in (settings.get("Networks") or {}).items():
            address = (details or {}).get("IPAddress")
            if address:
                log(
                    f"IP address {address} from NetworkSettings.Networks[{network}].IPAddress "
                    "(NetworkSettings.IPAddress is empty)"
                )
                return str(address)
        raise AssertionError(
            "Container has no IP address in NetworkSettings.IPAddress or "
            f"NetworkSettings.Networks[*].IPAddress; NetworkSettings: {json.dumps(settings)}"
        )

    @keyword(tags=("Container",))
    def container_should_be_listed(
        self,
        container_id: str,
        *,
        all: bool = True,
        filters: dict[str, Any] | str | None = None,
    ) -> dict[str, Any]:
        """Fails unless ``GET /containers/json`` lists the container; returns its entry.

        ``container_id`` may be a full or a short (prefix) ID. ``all`` defaults to true so
        exited containers count.

        Example:
        | ${entry}= | Container Should Be Listed | ${id} | |
        | Should Be Equal | ${entry}[State] | exited | msg=The listed State |
        | Container Should Be Listed | ${id} | filters={"label": ["test-run=ecs-integration"]} |
        """
        entries = self.client.list_containers(all=all, filters=filters)
        for entry in entries:
            if str(entry.get("Id", "")).startswith(container_id):
                debug(f"Listed entry: {json.dumps(entry)}")
                return dict(entry)
        raise AssertionError(
            f"Container {container_id} is not listed (all={all}, filters={filters}); "
            f"{len(entries)} listed: {', '.join(str(e.get('Id', '?'))[:12] for e in entries)}"
        )

    @keyword(tags=("Container",))
    def container_should_not_be_listed(
        self,
        container_id: str,
        *,
        all: bool = True,
        filters: dict[str, Any] | str | None = None,
    ) -> None:
        """Fails if ``GET /containers/json`` lists the container.

        Example:
        | Container Should Not Be Listed | ${id} | |
        | Container Should Not Be Listed | ${other} | filters={"label": ["test-run=ecs"]} |
        """
        entries = self.client.list_containers(all=all, filters=filters)
        for entry in entries:
            if str(entry.get("Id", "")).startswith(container_id):
                raise AssertionError(
                    f"Container {container_id} is listed (all={all}, filters={filters}): "
                    f"{json.dumps(entry)}"
                )
        log(f"Container {container_id} is not among the {len(entries)} listed")

    @keyword(tags=("Container",))
    def container_should_not_exist(self, container_id: str) -> None:
        """Fails unless the daemon answers ``404 No such container`` for the container.

        Any other answer fails: the container still exists (its ``State`` is shown), or a 404
        that is not about the container (an unknown route or another error), which proves
        nothing about it.

        Example:
        | Remove Container | ${id} |
        | Container Should Not Exist | ${id} |
        """
        answer = self.client.inspect_container(container_id, expected=ANY_STATUS)
        if "Id" in answer or "State" in answer:
            raise AssertionError(f"Container {container_id} exists: State {describe_state(answer)}")
        message = str(answer.get("message", ""))
        if "no such container" not in message.lower():
            raise AssertionError(
                f"Inspect of {container_id} answered neither the container nor 'No such "
                f"container': {cap(json.dumps(answer), 500)}"
            )
        log(f"Container {container_id} does not exist ({message})")

    @keyword(tags=("Container",))
    def container_id_should_be_valid(self, container_id: str) -> None:
        """Fails unless ``container_id`` is 64 lowercase hexadecimal characters.

        Example:
        | Container Id Should Be Valid | ${id} |
        """
        if not _CONTAINER_ID.fullmatch(str(container_id)):
            raise AssertionError(
                f"'{container_id}' is not a valid container ID (64 lowercase hex characters)"
            )
