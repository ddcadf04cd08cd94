*** Settings ***
Documentation     Victim flows for utest/system/reliability/test_outages.py: the harness kills the daemon,
...               the AWS endpoint or both, or makes the AWS endpoint accept and never answer,
...               while the first flow starts its container, runs its exec or is torn down. The
...               run must then end within seconds: the later flow and the suite teardown fail at
...               once naming the first cause, and the closing lines say what was left and how to
...               sweep it. Excluded from every normal run (``robot:exclude``); the harness selects
...               them with ``--variable VICTIM_TAG:reliability-victim --include outage-flow``.

Resource          ../../resources/ecs_suite.resource
Resource          ../../resources/containers.resource
Resource          ../../resources/exec.resource
Resource          ../../resources/cleanup.resource

Suite Setup       Prepare ECS Suite
Suite Teardown    Finish ECS Suite
Test Teardown     Clean Up And Verify Test Containers

Test Tags         ${VICTIM_TAG}    outage-flow


*** Variables ***
${VICTIM_TAG}      robot:exclude
# How long the exec keeps the flow busy, so the fault can land inside it.
${EXEC_SECONDS}    5


*** Test Cases ***
Long-Running Flow Through Start, Exec And Teardown
    [Documentation]    Start blocks (the harness runs the ``fargate`` profile), the exec runs
    ...    ``sleep`` for ${EXEC_SECONDS} s, and the teardown removes the container and cleans
    ...    its task definition and log stream: three phases the fault can land in.
    ${container_id}=    Create Fargate Container    sh    -c    echo started; exec tail -f /dev/null
    Start Fargate Container    ${container_id}
    Exec Should Return Exit Code    ${container_id}    0    sleep    ${EXEC_SECONDS}
    Stop Fargate Container    ${container_id}

Later Flow On The Same Target
    [Documentation]    Runs after the fault: it must fail at once, naming what went down.
    ${container_id}=    Create Fargate Container    echo    later
    Start Fargate Container    ${container_id}
    Remove Fargate Container    ${container_id}
