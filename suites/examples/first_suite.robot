*** Settings ***
Documentation     A first suite of one's own, written with the documented keywords only: the
...               worked example of docs/writing-suites.md. Each test is one short flow on its
...               own Fargate task (its `fargate-tasks:N` tag says how many containers it
...               creates, which sizes the run's Fargate task budget). Tagged `example`, not
...               `ecs`: `robot --include example suites` runs it, the acceptance run does not.

Library           Collections
Resource          ../../resources/ecs_suite.resource
Resource          ../../resources/containers.resource
Resource          ../../resources/logs.resource
Resource          ../../resources/cleanup.resource

Suite Setup       Prepare ECS Suite
Suite Teardown    Finish ECS Suite
Test Teardown     Clean Up And Verify Test Containers

Test Tags         example


*** Variables ***
${UNKNOWN_NAME}    no-such-container-for-the-example


*** Test Cases ***
A Failing Command Reports Its Stderr And Exit Code 3
    [Documentation]    A command that writes to both streams and exits 3: the daemon and ECS
    ...    agree on the exit code, and each line is in the logs on its own stream.
    [Tags]    fargate-tasks:1
    ${container_id}=    Create Fargate Container    sh    -c    echo starting; echo disk full >&2; exit 3
    Start Fargate Container    ${container_id}
    Container Should Have Exited With Code    ${container_id}    3
    Wait Until Logs Contain Line    ${container_id}    disk full    stream=stderr
    ${lines}=    Get Container Log Lines    ${container_id}
    Log Line Should Be    ${lines}    starting    stdout
    Log Line Should Be    ${lines}    disk full    stderr

Exec Sees The Container's Environment And Working Directory
    [Documentation]    The environment and working directory given at create are what a command
    ...    run in the container (through the agent in its task) sees.
    [Tags]    fargate-tasks:1
    VAR    &{env}=    GREETING=hello from env
    ${container_id}=    Create Fargate Container    tail    -f    /dev/null    env=${env}
    ...    working_dir=/tmp
    Start Fargate Container    ${container_id}
    ${result}=    Run Process In Container    ${container_id}    sh    -c    echo "$GREETING"; pwd
    Should Be Equal As Integers    ${result.rc}    0    msg=stderr: ${result.stderr}
    Should Be Equal    ${result.stdout_lines}[0]    hello from env    msg=The first line of stdout
    Should Be Equal    ${result.stdout_lines}[1]    /tmp    msg=The second line of stdout

A Killed Container Exits With 137 On The Daemon And On ECS
    [Documentation]    Kill sends SIGKILL (Docker's default): the container exits with 128 + 9,
    ...    and its task is STOPPED on ECS with that exit code. The command ignores SIGTERM, as
    ...    PID 1 of a container does, so only the kill's SIGKILL can end it (ECS follows a kill
    ...    with StopTask, whose SIGTERM must not get there first).
    [Tags]    fargate-tasks:1
    ${container_id}=    Create Fargate Container    sh    -c    trap "" TERM; exec tail -f /dev/null
    Start Fargate Container    ${container_id}
    Kill Container    ${container_id}
    Container Should Have Exited With Code    ${container_id}    137

Logs Can Be Read From The Tail And Since A Moment
    [Documentation]    `tail=1` gives the last line only; `since` a line's own timestamp gives that
    ...    line and the ones after it.
    [Tags]    fargate-tasks:1
    ${container_id}=    Create Fargate Container    sh    -c    echo one; echo two; sleep 1; echo three
    Start Fargate Container    ${container_id}
    Container Should Have Exited With Code    ${container_id}    0
    Wait Until Logs Contain Line    ${container_id}    three
    ${all}=    Get Container Log Lines    ${container_id}
    Log Texts Should Be    ${all}    one    two    three
    ${last}=    Get Container Log Lines    ${container_id}    tail=1
    Log Texts Should Be    ${last}    three
    ${later}=    Get Container Log Lines    ${container_id}    since=${all}[2][timestamp]
    Log Texts Should Be    ${later}    three

An Unknown Container Is A 404
    [Documentation]    Asking for a container that does not exist answers 404 `No such
    ...    container`, and the failure says so. Creates nothing.
    [Tags]    fargate-tasks:0
    Container Should Not Exist    ${UNKNOWN_NAME}
    Run Keyword And Expect Error    *HTTP 404*No such container: ${UNKNOWN_NAME}
    ...    Inspect Container    ${UNKNOWN_NAME}

A Raw Create On The Kit's Session Is Labelled, Counted And Cleaned
    [Documentation]    For a create field no keyword offers, the raw Docker API is at hand:
    ...    a create sent on the kit's RequestsLibrary session still gets the run's labels,
    ...    counts against the Fargate task budget, and is cleaned and verified by the teardown.
    [Tags]    fargate-tasks:1
    ${before}=    Get Fargate Task Budget
    ${container_id}=    Create Container Through The Raw API    alpine:latest    echo    created raw
    ${inspect}=    Inspect Container    ${container_id}
    Dictionary Should Contain Key    ${inspect}[Config][Labels]    sockerless-kit.run-id
    ${after}=    Get Fargate Task Budget
    Should Be Equal As Integers    ${after}[used]    ${{ $before["used"] + 1 }}
    ${created}=    Get Created Containers
    List Should Contain Value    ${created}    ${container_id}


*** Keywords ***
Create Container Through The Raw API
    [Documentation]    Sends `POST /containers/create` with a JSON body of our own on the kit's
    ...    RequestsLibrary session (`Create Sockerless Session`); returns the new ID.
    [Arguments]    ${image}    @{command}
    Create Sockerless Session
    VAR    &{body}=    Image=${image}    Cmd=${command}
    ${response}=    POST On Session    sockerless    /containers/create    json=${body}
    ...    expected_status=201
    RETURN    ${response.json()}[Id]

Log Line Should Be
    [Documentation]    One of ``lines`` (from `Get Container Log Lines`) has the text ``text``
    ...    and came on ``stream``.
    [Arguments]    ${lines}    ${text}    ${stream}
    FOR    ${line}    IN    @{lines}
        IF    $line["text"] == $text
            Should Be Equal    ${line}[stream]    ${stream}    msg=${text} came on ${line}[stream]
            RETURN
        END
    END
    Fail    No log line '${text}' in ${lines}

Log Texts Should Be
    [Documentation]    The texts of ``lines`` (from `Get Container Log Lines`) are ``expected``.
    [Arguments]    ${lines}    @{expected}
    ${texts}=    Evaluate    [line["text"] for line in $lines]
    Lists Should Be Equal    ${texts}    ${expected}    msg=The log lines are ${texts}, expected ${expected}
