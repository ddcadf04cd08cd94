*** Settings ***
Documentation     The answers a client acts on when a request cannot be done: 404 for what does not
...               exist, 409 for a conflict, 304 for what is already so. Shared: one running, one
...               exited container.
Metadata          fargate-tasks    2

Resource          ../../resources/conformance.resource

Suite Setup       Create A Running And An Exited Container
Suite Teardown    Clean Up Shared Probe Containers


*** Variables ***
${UNKNOWN}         no-such-container-of-the-conformance-suite
${UNKNOWN_EXEC}    0000000000000000000000000000000000000000000000000000000000000000


*** Test Cases ***
An Unknown Container Is A 404 No Such Container
    [Documentation]    Inspect of a container that does not exist: 404 `No such container: <name>`.
    ...    Docker: https://docs.docker.com/reference/api/engine/version/v1.44/#tag/Container/operation/ContainerInspect
    [Tags]    fargate-tasks:0
    ${answer}=    Inspect Container    ${UNKNOWN}    expected_status=404
    Should Contain    ${answer}[message]    No such container: ${UNKNOWN}

Logs Of An Unknown Container Are A 404
    [Documentation]    `docker logs` of a container that does not exist: 404.
    ...    Docker: https://docs.docker.com/reference/api/engine/version/v1.44/#tag/Container/operation/ContainerLogs
    [Tags]    fargate-tasks:0
    Run Keyword And Expect Error    *HTTP 404*    Get Container Logs    ${UNKNOWN}

Wait On An Unknown Container Is A 404
    [Documentation]    `docker wait` on a container that does not exist: 404.
    ...    Docker: https://docs.docker.com/reference/api/engine/version/v1.44/#tag/Container/operation/ContainerWait
    [Tags]    fargate-tasks:0
    Wait Through The API    ${UNKNOWN}    not-running    expected_status=404

An Unknown Exec Instance Is A 404
    [Documentation]    Inspect of an exec instance that does not exist: 404.
    ...    Docker: https://docs.docker.com/reference/api/engine/version/v1.44/#tag/Exec/operation/ExecInspect
    [Tags]    fargate-tasks:0
    Create Sockerless Session
    GET On Session    sockerless    /exec/${UNKNOWN_EXEC}/json    expected_status=404

A Name In Use Is A 409 Conflict Naming It
    [Documentation]    A create with the name of an existing container: 409 `Conflict. The
    ...    container name "/<name>" is already in use ...`.
    ...    Docker: https://docs.docker.com/reference/api/engine/version/v1.44/#tag/Container/operation/ContainerCreate
    [Tags]    fargate-tasks:1
    Create Sockerless Session
    VAR    &{body}=    Image=alpine:latest    Cmd=${{ ["true"] }}
    ${response}=    POST On Session    sockerless    /containers/create    json=${body}
    ...    params=name=${RUNNING_NAME}    expected_status=409
    Should Contain    ${response.json()}[message]    The container name "/${RUNNING_NAME}" is already in use

Removing A Running Container Without Force Is A 409
    [Documentation]    `docker rm` of a running container: 409, and the container stays.
    ...    Docker: https://docs.docker.com/reference/api/engine/version/v1.44/#tag/Container/operation/ContainerDelete
    [Tags]    fargate-tasks:0
    Remove Container    ${RUNNING}    expected_status=409
    ${status}=    Get Container Status    ${RUNNING}
    Should Be Equal    ${status}    running

Starting A Running Container Answers 304
    [Documentation]    `docker start` of a running container: 304, nothing done.
    ...    Docker: https://docs.docker.com/reference/api/engine/version/v1.44/#tag/Container/operation/ContainerStart
    [Tags]    fargate-tasks:0
    Start Container    ${RUNNING}    expected_status=304

Stopping An Exited Container Answers 304
    [Documentation]    `docker stop` of an exited container: 304, nothing done.
    ...    Docker: https://docs.docker.com/reference/api/engine/version/v1.44/#tag/Container/operation/ContainerStop
    [Tags]    fargate-tasks:0
    Stop Container    ${EXITED}    expected_status=304

Killing An Exited Container Is A 409
    [Documentation]    `docker kill` of an exited container: 409 `Container ... is not running`.
    ...    Docker: https://docs.docker.com/reference/api/engine/version/v1.44/#tag/Container/operation/ContainerKill
    [Tags]    fargate-tasks:0
    Kill Container    ${EXITED}    expected_status=409

Exec In An Exited Container Is A 409
    [Documentation]    `docker exec` in an exited container: 409 `Container ... is not running`.
    ...    Docker: https://docs.docker.com/reference/api/engine/version/v1.44/#tag/Exec/operation/ContainerExec
    [Tags]    fargate-tasks:0
    Create Exec    ${EXITED}    echo    hi    expected_status=409


*** Keywords ***
Create A Running And An Exited Container
    [Documentation]    A named running container and an exited one.
    ${name}=    Generate Container Name    prefix=errors-running
    ${running}=    Create Shared Probe Container    tail    -f    /dev/null    name=${name}
    Start Probe Container    ${running}
    ${exited}=    Create Shared Probe Container    true
    Start Probe Container    ${exited}
    Probe Should Have Exited With Code    ${exited}    0
    VAR    ${RUNNING}=    ${running}    scope=SUITE    # robocop: off=VAR05
    VAR    ${RUNNING_NAME}=    ${name}    scope=SUITE    # robocop: off=VAR05
    VAR    ${EXITED}=    ${exited}    scope=SUITE    # robocop: off=VAR05
