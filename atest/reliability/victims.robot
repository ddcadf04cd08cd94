*** Settings ***
Documentation     Victim flows for the reliability tests in utest/system/reliability: built from the real
...               ECS resources, each stopped, killed or failed on purpose by the pytest harness.
...               Excluded from every normal run (``robot:exclude``); the harness selects them
...               with ``--variable VICTIM_TAG:reliability-victim --include <tag>``.

Resource          ../../resources/ecs_suite.resource
Resource          ../../resources/containers.resource
Resource          ../../resources/exec.resource
Resource          ../../resources/logs.resource
Resource          ../../resources/cleanup.resource

Suite Setup       Prepare ECS Suite
Suite Teardown    Finish ECS Suite
Test Teardown     Clean Up And Verify Test Containers

Test Tags         ${VICTIM_TAG}


*** Variables ***
${VICTIM_TAG}      robot:exclude
${NEVER_LOGGED}    this line is never written
# How long the "slow" flows keep each phase busy, so a signal can land inside it.
${EXEC_SECONDS}    20


*** Test Cases ***
Assertion Fails In The Middle Of A Flow
    [Documentation]    A running task with exec done, then an assertion fails before stop and
    ...    removal: the test teardown must still leave nothing behind. Each victim task writes
    ...    one line, so it has a log stream to clean.
    [Tags]    fails-midway
    ${container_id}=    Create Fargate Container    sh    -c    echo started; exec tail -f /dev/null
    Start Fargate Container    ${container_id}
    Exec Should Return    ${container_id}    exec-works    echo    exec-works
    Fail    Failing on purpose in the middle of the flow
    Stop Fargate Container    ${container_id}
    Remove Fargate Container    ${container_id}

Assertion Fails Mid Flow With No Test Teardown
    [Documentation]    The same failure with no teardown at all: only the library's listener
    ...    (end of test) and the suite's sweep are left to clean.
    [Tags]    fails-midway
    ${container_id}=    Create Fargate Container    sh    -c    echo started; exec sleep 300
    Start Fargate Container    ${container_id}
    Should Be Equal    running    failing    msg=Failing on purpose after start
    Remove Fargate Container    ${container_id}
    [Teardown]    NONE

Slow Flow Through Create, Start, Exec, Logs And Teardown
    [Documentation]    Every phase lasts long enough for the harness to send a signal inside it:
    ...    start (the fargate profile), an exec of ``sleep``, logs waited for but never written
    ...    (followed until the logs timeout), and a teardown that waits for the task to stop.
    ...    The task writes one line, so it has a log stream to leak.
    [Tags]    slow-flow
    ${container_id}=    Create Fargate Container    sh    -c    echo started; exec tail -f /dev/null
    Start Fargate Container    ${container_id}
    Exec Should Return Exit Code    ${container_id}    0    sleep    ${EXEC_SECONDS}
    Wait Until Logs Contain Line    ${container_id}    ${NEVER_LOGGED}
