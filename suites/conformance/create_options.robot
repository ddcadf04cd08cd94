*** Settings ***
Documentation    The `docker run` / `docker create` options a client relies on, each on a short
...              container of its own: `-w`, `-u`, `-e`, `--entrypoint`, `--stop-signal`,
...              `--stop-timeout`, `--rm`, `-i`, `-t` and labels.

Resource         ../../resources/conformance.resource

Test Teardown    Clean Up Probe Containers

Test Tags        fargate-tasks:1


*** Variables ***
# A stop that used the 1 s stop timeout ends well within this; the default timeout is 10 s.
${STOP_TIMEOUT_BOUND}    8


*** Test Cases ***
Working Directory Is Where The Command Starts
    [Documentation]    `-w /tmp` (`WorkingDir`): the command starts in that directory.
    ...    Docker: https://docs.docker.com/reference/cli/docker/container/run/#workdir
    ${container_id}=    Run Probe Container    sh    -c    pwd; echo ${DONE}    working_dir=/tmp
    Probe Should Have Exited With Code    ${container_id}    0
    ${logs}=    Wait For Probe Output    ${container_id}
    Output Should Contain Line    ${logs}    /tmp

User Runs The Command
    [Documentation]    `-u nobody` (`User`): the command runs as that user (uid 65534).
    ...    Docker: https://docs.docker.com/reference/cli/docker/container/run/#user
    ${container_id}=    Run Probe Container    sh    -c    id -u; echo ${DONE}    user=nobody
    Probe Should Have Exited With Code    ${container_id}    0
    ${logs}=    Wait For Probe Output    ${container_id}
    Output Should Contain Line    ${logs}    65534

Environment Values Reach The Command Unchanged
    [Documentation]    `-e KEY=value` (`Env`): every value reaches the command as it was given,
    ...    spaces, `=`, quotes, `$`, `;`, a backslash, an empty value and non-ASCII included.
    ...    Docker: https://docs.docker.com/reference/cli/docker/container/run/#env
    VAR    &{env}=
    ...    SPACES=a b${SPACE}${SPACE}c
    ...    EQUALS=x=y=z
    ...    QUOTES="q" 'r'
    ...    DOLLAR=$HOME
    ...    SEMICOLON=a;b
    ...    BACKSLASH=a\\b
    ...    EMPTY=${EMPTY}
    ...    UNICODE=grüße ✓
    ${container_id}=    Run Probe Container    sh    -c    env; echo ${DONE}    env=${env}
    Probe Should Have Exited With Code    ${container_id}    0
    ${logs}=    Wait For Probe Output    ${container_id}
    FOR    ${key}    ${value}    IN    &{env}
        Output Should Contain Line    ${logs}    ${key}=${value}
    END

Entrypoint Runs With The Command As Its Arguments
    [Documentation]    `--entrypoint` (`Entrypoint`): the entrypoint runs, with the command
    ...    (`Cmd`) as its arguments.
    ...    Docker: https://docs.docker.com/reference/dockerfile/#understand-how-cmd-and-entrypoint-interact
    VAR    @{entrypoint}=    sh    -c    echo "entrypoint got $*"; echo ${DONE}    sh
    ${container_id}=    Run Probe Container    first    second    entrypoint=${entrypoint}
    Probe Should Have Exited With Code    ${container_id}    0
    ${logs}=    Wait For Probe Output    ${container_id}
    Output Should Contain Line    ${logs}    entrypoint got first second

Stop Delivers The Stop Signal Given At Create
    [Documentation]    `--stop-signal SIGUSR1` (`StopSignal`): `docker stop` sends that signal
    ...    instead of SIGTERM; the command's handler runs and its exit code is the container's.
    ...    Docker: https://docs.docker.com/reference/cli/docker/container/run/#stop-signal
    ${container_id}=    Run Probe Container    sh    -c
    ...    trap 'echo got USR1; exit 3' USR1; ${SAY_READY}; while true; do sleep 0.1; done
    ...    stop_signal=SIGUSR1
    Wait Until Probe Is Ready    ${container_id}
    Stop Probe Container    ${container_id}
    Probe Should Have Exited With Code    ${container_id}    3
    Wait Until Logs Contain Line    ${container_id}    got USR1

Stop Kills The Process After The Stop Timeout Given At Create
    [Documentation]    `--stop-timeout 1` (`StopTimeout`): `docker stop` waits 1 s (not the
    ...    default 10 s) for a process that ignores SIGTERM, then kills it: exit code 137.
    ...    Docker: https://docs.docker.com/reference/cli/docker/container/run/#stop-timeout
    ${container_id}=    Run Probe Container    sh    -c
    ...    trap '' TERM; ${SAY_READY}; while true; do sleep 0.1; done    stop_timeout=1
    Wait Until Probe Is Ready    ${container_id}
    ${started}=    Get Time    epoch
    Stop Probe Container    ${container_id}
    ${took}=    Evaluate    time.time() - ${started}    modules=time
    Probe Should Have Exited With Code    ${container_id}    137
    Should Be True    ${took} < ${STOP_TIMEOUT_BOUND}
    ...    msg=Stop took ${took} s, more than ${STOP_TIMEOUT_BOUND} s: the stop timeout of 1 s was not used

Container Is Removed Once It Exited
    [Documentation]    `--rm` (`HostConfig.AutoRemove`): once the command exits, the container
    ...    is removed (here within `REMOVAL_TIMEOUT` of the start of its 2 s command).
    ...    Docker: https://docs.docker.com/reference/cli/docker/container/run/#rm
    ${container_id}=    Create Fargate Container    sleep    2    host_config=${{ {"AutoRemove": True} }}
    ${inspect}=    Inspect Container    ${container_id}
    Should Be True    $inspect["HostConfig"]["AutoRemove"]    msg=HostConfig is ${inspect}[HostConfig]
    Start Probe Container    ${container_id}
    Wait Until Keyword Succeeds    ${REMOVAL_TIMEOUT}    0.5s    Container Should Not Exist    ${container_id}

Stdin Of An Interactive Container Reaches Its Command
    [Documentation]    `-i` (`OpenStdin`): what a client writes to the container's stdin (here
    ...    through an attach) is what the command reads.
    ...    Docker: https://docs.docker.com/reference/cli/docker/container/run/#interactive
    ${container_id}=    Run Probe Container    sh    -c    read line; echo "got $line"; echo ${DONE}
    ...    open_stdin=${TRUE}
    Attach To Container Over WebSocket    ${container_id}    send=hello\n    timeout=5s
    ${logs}=    Wait For Probe Output    ${container_id}
    Output Should Contain Line    ${logs}    got hello

Command Of A TTY Container Runs On A Terminal
    [Documentation]    `-t` (`Tty`): the command's output goes to a terminal, and what it
    ...    writes there is in the container's logs.
    ...    Docker: https://docs.docker.com/reference/cli/docker/container/run/#tty
    ${container_id}=    Run Probe Container    sh    -c    test -t 1 && echo on a terminal; echo ${DONE}
    ...    tty=${TRUE}
    Probe Should Have Exited With Code    ${container_id}    0
    ${logs}=    Wait For Probe Output    ${container_id}
    Output Should Contain Line    ${logs}    on a terminal

Labels Given At Create Are Kept
    [Documentation]    `--label` (`Labels`): inspect shows every label as given, also after
    ...    the container ran.
    ...    Docker: https://docs.docker.com/reference/cli/docker/container/run/#label
    VAR    &{labels}=    conformance.probe=labels    conformance.awkward=a=b c ✓
    ${container_id}=    Run Probe Container    true    labels=${labels}
    ${inspect}=    Probe Should Have Exited With Code    ${container_id}    0
    FOR    ${key}    ${value}    IN    &{labels}
        Dictionary Should Contain Item    ${inspect}[Config][Labels]    ${key}    ${value}
        ...    msg=Labels are ${inspect}[Config][Labels]
    END
