*** Settings ***
Documentation     A short-lived container on Fargate, from create to removal, with its listing,
...               label filtering and CloudWatch logs checked on the way: one Fargate task.

Resource          ../../resources/ecs_suite.resource
Resource          ../../resources/containers.resource
Resource          ../../resources/logs.resource
Resource          ../../resources/cleanup.resource

Suite Setup       Prepare ECS Suite
Suite Teardown    Finish ECS Suite
Test Teardown     Clean Up And Verify Test Containers

Test Tags         ecs    slow


*** Variables ***
${GREETING}              hello from fargate
&{OTHER_SUITE_LABELS}    test-run=other-suite


*** Test Cases ***
Short-Lived Container Runs To Completion, Is Listed, Logs To CloudWatch And Is Removed
    [Documentation]    AC 3, 4, 6: create answers 201 with an ID, start answers 204 once the task
    ...    has run, and the finished `echo` shows `exited` with exit code 0; on ECS there is
    ...    exactly one FARGATE task from the container's ACTIVE task definition, RUNNING or
    ...    later when start answered, STOPPED with exit code 0 afterwards.
    ...    AC 9, 10: the list shows its image, state and name; the label filter returns only
    ...    labelled containers. AC 11, 12, 13: its logs come back with the whole line
    ...    `hello from fargate`, framed on stdout, with RFC 3339 timestamps, and every line
    ...    and timestamp is an event of the task's CloudWatch stream.
    ...    AC 8, 18: removal deregisters the task definition that was ACTIVE, and teardown
    ...    leaves no task, task definition or log stream behind.
    [Tags]    lifecycle    list    logs    cleanup    fargate-tasks:2
    ${container_id}=    Create Fargate Container    echo    ${GREETING}
    Start Fargate Container    ${container_id}
    Container Should Have Exited With Code    ${container_id}    0    timeout=${EXIT_TIMEOUT}
    Container Should Be Listed With Its Image, State And Name    ${container_id}    exited
    ${unlabelled_id}=    Create Fargate Container    echo    never started    labels=${OTHER_SUITE_LABELS}
    Label Filter Should Return Only Labelled Containers    ${container_id}    ${unlabelled_id}
    Logs Should Come From The Task's CloudWatch Stream With Timestamps    ${container_id}    ${GREETING}
    Remove Fargate Container    ${container_id}
