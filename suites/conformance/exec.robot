*** Settings ***
Documentation     `docker exec` in a running container: exit code, stdin, the two streams, the
...               environment, the user, the working directory, a terminal. Every probe runs its
...               command in one shared container, created with a user, a working directory and
...               an environment of its own, which no probe disturbs.
Metadata          fargate-tasks    1

Resource          ../../resources/conformance.resource

Suite Setup       Start The Shared Container
Suite Teardown    Clean Up Shared Probe Containers

Test Tags         fargate-tasks:0


*** Variables ***
&{CONTAINER_ENV}    FROM_CREATE=create-value


*** Test Cases ***
Exec Reports The Command's Exit Code
    [Documentation]    The exit code of the command is the exec's `ExitCode`.
    ...    Docker: https://docs.docker.com/reference/api/engine/version/v1.44/#tag/Exec/operation/ExecInspect
    ${result}=    Run Process In Container    ${SHARED}    sh    -c    exit 7
    Should Be Equal As Integers    ${result.rc}    7    msg=The exec of `exit 7` reports exit code ${result.rc}

Exec Passes Stdin To The Command
    [Documentation]    `docker exec -i`: what the client sends is the command's stdin, then end
    ...    of file.
    ...    Docker: https://docs.docker.com/reference/cli/docker/container/exec/
    ${result}=    Run Process In Container    ${SHARED}    cat    stdin=hello through stdin
    Should Be Equal    ${result.stdout}    hello through stdin
    Should Be Equal As Integers    ${result.rc}    0

Exec Keeps Stdout And Stderr Apart
    [Documentation]    Without a terminal the exec's stdout and stderr come as two streams.
    ...    Docker: https://docs.docker.com/reference/api/engine/version/v1.44/#tag/Exec/operation/ExecStart
    ${result}=    Run Process In Container    ${SHARED}    sh    -c    echo out; echo err >&2
    Should Be Equal    ${result.stdout}    out
    Should Be Equal    ${result.stderr}    err

Exec Sees The Container's Environment And Its Own
    [Documentation]    `docker exec -e`: the command sees the container's environment plus the
    ...    exec's own variables.
    ...    Docker: https://docs.docker.com/reference/cli/docker/container/exec/#env
    VAR    &{env}=    FROM_EXEC=exec-value
    ${result}=    Run Process In Container    ${SHARED}    sh    -c    echo "$FROM_CREATE $FROM_EXEC"    env=${env}
    Should Be Equal    ${result.stdout}    create-value exec-value

Exec Runs As The Container's User Unless Told Otherwise
    [Documentation]    An exec runs as the container's `User` (here `nobody`, uid 65534);
    ...    `docker exec -u root` runs it as root.
    ...    Docker: https://docs.docker.com/reference/cli/docker/container/exec/#user
    ${default}=    Run Process In Container    ${SHARED}    id    -u
    ${root}=    Run Process In Container    ${SHARED}    id    -u    user=root
    Should Be Equal    ${default.stdout}    65534    msg=Without -u the exec ran as uid ${default.stdout}
    Should Be Equal    ${root.stdout}    0    msg=With -u root the exec ran as uid ${root.stdout}

Exec Starts In The Container's Working Directory Unless Told Otherwise
    [Documentation]    An exec starts in the container's `WorkingDir` (here `/tmp`);
    ...    `docker exec -w /etc` starts it there.
    ...    Docker: https://docs.docker.com/reference/cli/docker/container/exec/#workdir
    ${default}=    Run Process In Container    ${SHARED}    pwd
    ${etc}=    Run Process In Container    ${SHARED}    pwd    working_dir=/etc
    Should Be Equal    ${default.stdout}    /tmp    msg=Without -w the exec started in ${default.stdout}
    Should Be Equal    ${etc.stdout}    /etc    msg=With -w /etc the exec started in ${etc.stdout}

Exec With A Terminal Runs On One
    [Documentation]    `docker exec -t`: the command's output goes to a terminal, whose output
    ...    the client reads as one raw stream.
    ...    Docker: https://docs.docker.com/reference/cli/docker/container/exec/
    ${exec_id}=    Create Exec    ${SHARED}    sh    -c    test -t 1 && echo on a terminal    tty=${TRUE}
    ${stream}=    Start Exec    ${exec_id}    tty=${TRUE}
    Output Should Contain Line    ${stream}    on a terminal
    Exec Should Have Exited With Code    ${exec_id}    0


*** Keywords ***
Start The Shared Container
    [Documentation]    The container every exec runs in: `tail -f /dev/null` as `nobody`, in `/tmp`,
    ...    with ``CONTAINER_ENV``.
    ${container_id}=    Create Shared Probe Container    tail    -f    /dev/null
    ...    user=nobody    working_dir=/tmp    env=${CONTAINER_ENV}
    Start Probe Container    ${container_id}
    VAR    ${SHARED}=    ${container_id}    scope=SUITE    # robocop: off=VAR05
