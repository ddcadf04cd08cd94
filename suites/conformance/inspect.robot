*** Settings ***
Documentation     `docker inspect` (`GET /containers/{id}/json`): the state of a running and of an
...               exited container, their times, their name and the configuration they were
...               created with. Two shared containers.
Metadata          fargate-tasks    2

Resource          ../../resources/conformance.resource

Suite Setup       Create A Running And An Exited Container
Suite Teardown    Clean Up Shared Probe Containers

Test Tags         fargate-tasks:0


*** Variables ***
${ZERO_TIME}    0001-01-01T00:00:00Z
&{PROBE_ENV}    PROBE=inspect


*** Test Cases ***
A Running Container's State Says Running With Its Start Time
    [Documentation]    `State` of a running container: `Status` running, `Running` true, exit code
    ...    0, a `StartedAt` time and no `FinishedAt` (the zero time).
    ...    Docker: https://docs.docker.com/reference/api/engine/version/v1.44/#tag/Container/operation/ContainerInspect
    ${state}=    Get State    ${RUNNING}
    Should Be Equal    ${state}[Status]    running
    Should Be True    $state["Running"] is True    msg=Running is ${state}[Running]
    Should Be Equal As Integers    ${state}[ExitCode]    0
    Time Should Be Set    ${state}[StartedAt]    StartedAt
    Should Be Equal
    ...    ${state}[FinishedAt]
    ...    ${ZERO_TIME}
    ...    msg=FinishedAt of a running container is ${state}[FinishedAt]

An Exited Container's State Has Its Exit Code And Finish Time
    [Documentation]    `State` of an exited container: `Status` exited, `Running` false, the
    ...    command's exit code, `FinishedAt` no earlier than `StartedAt`.
    ...    Docker: https://docs.docker.com/reference/api/engine/version/v1.44/#tag/Container/operation/ContainerInspect
    ${state}=    Get State    ${EXITED}
    Should Be Equal    ${state}[Status]    exited
    Should Be True    $state["Running"] is False    msg=Running is ${state}[Running]
    Should Be Equal As Integers    ${state}[ExitCode]    3
    ${started}=    Time Should Be Set    ${state}[StartedAt]    StartedAt
    ${finished}=    Time Should Be Set    ${state}[FinishedAt]    FinishedAt
    Should Be True    $finished >= $started    msg=FinishedAt ${finished} is before StartedAt ${started}

Created Comes Before The Start
    [Documentation]    `Created` is the time of the create, no later than `StartedAt`.
    ...    Docker: https://docs.docker.com/reference/api/engine/version/v1.44/#tag/Container/operation/ContainerInspect
    ${inspect}=    Inspect Container    ${EXITED}
    ${created}=    Time Should Be Set    ${inspect}[Created]    Created
    ${started}=    Time Should Be Set    ${inspect}[State][StartedAt]    StartedAt
    Should Be True    $created <= $started    msg=Created ${created} is after StartedAt ${started}

Name Is The Given Name With A Leading Slash
    [Documentation]    `Name` is `/` and the name given at create.
    ...    Docker: https://docs.docker.com/reference/api/engine/version/v1.44/#tag/Container/operation/ContainerInspect
    ${inspect}=    Inspect Container    ${RUNNING}
    Should Be Equal    ${inspect}[Name]    /${RUNNING_NAME}

Config Shows What The Container Was Created With
    [Documentation]    `Config` of a started container still shows its create options: `Image`,
    ...    `Cmd`, `Env`, `WorkingDir`, `User`, `Labels`.
    ...    Docker: https://docs.docker.com/reference/api/engine/version/v1.44/#tag/Container/operation/ContainerInspect
    ${inspect}=    Inspect Container    ${RUNNING}
    VAR    &{config}=    &{inspect}[Config]
    VAR    &{expected}=    Image=alpine:latest    Cmd=${{ ["tail", "-f", "/dev/null"] }}
    ...    WorkingDir=/tmp    User=nobody
    ${differ}=    Evaluate    {key: got.get(key) for key, want in wanted.items() if got.get(key) != want}
    ...    namespace=${{ {"got": $config, "wanted": $expected} }}
    Should Be Empty    ${differ}    msg=Config differs from the create in ${differ}; the create had ${expected}
    List Should Contain Value    ${config}[Env]    PROBE=inspect    msg=Env is ${config}[Env]
    Dictionary Should Contain Item    ${config}[Labels]    conformance.probe    inspect
    ...    msg=Labels are ${config}[Labels]


*** Keywords ***
Create A Running And An Exited Container
    [Documentation]    The running container has a name, a working directory, a user, an
    ...    environment and a label; the exited one ran for a moment and
    ...    exited with 3 (Docker may set `StartedAt` after `FinishedAt` for a command that ends at once).
    ${name}=    Generate Container Name    prefix=inspect-running
    ${running}=    Create Shared Probe Container    tail    -f    /dev/null    name=${name}
    ...    working_dir=/tmp    user=nobody    env=${PROBE_ENV}    labels=${{ {"conformance.probe": "inspect"} }}
    Start Probe Container    ${running}
    ${exited}=    Create Shared Probe Container    sh    -c    sleep 0.2; exit 3
    Start Probe Container    ${exited}
    Probe Should Have Exited With Code    ${exited}    3
    VAR    ${RUNNING}=    ${running}    scope=SUITE    # robocop: off=VAR05
    VAR    ${RUNNING_NAME}=    ${name}    scope=SUITE    # robocop: off=VAR05
    VAR    ${EXITED}=    ${exited}    scope=SUITE    # robocop: off=VAR05

Get State
    [Documentation]    The container's inspect `State`.
    [Arguments]    ${container_id}
    ${inspect}=    Inspect Container    ${container_id}
    RETURN    ${inspect}[State]

Time Should Be Set
    [Documentation]    ``text`` is an RFC 3339 time other than the zero time; returns it parsed.
    [Arguments]    ${text}    ${field}
    Should Not Be Equal    ${text}    ${ZERO_TIME}    msg=${field} is the zero time
    ${parsed}=    Evaluate    datetime.datetime.fromisoformat($text)    modules=datetime
    RETURN    ${parsed}
