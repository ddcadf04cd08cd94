*** Settings ***
Documentation     A command runs to completion on its own Fargate task: the daemon and ECS agree on
...               its exit code, and each line it prints is an event of the task's CloudWatch
...               stream. An example to start from: copy it, keep the settings, change the tests.

Resource          sockerless_ecs_acceptance/resources/ecs_suite.resource
Resource          sockerless_ecs_acceptance/resources/containers.resource
Resource          sockerless_ecs_acceptance/resources/cleanup.resource

Suite Setup       Prepare ECS Suite
Suite Teardown    Finish ECS Suite
Test Teardown     Clean Up And Verify Test Containers

# Each test creates one container: it may launch one Fargate task (the budget's fargate-tasks:N).
Test Tags         team-example    fargate-tasks:1


*** Test Cases ***
A Report Job Runs To Completion And Its Output Reaches CloudWatch
    [Documentation]    The job prints two lines and exits 0: ECS reports the same exit code as
    ...    the daemon, and both lines come back from the task's CloudWatch stream.
    ${container_id}=    Create Fargate Container    sh    -c    echo report started; echo report ready
    Start Fargate Container    ${container_id}
    Container Should Have Exited With Code    ${container_id}    0
    ${logs}=    Wait Until Logs Contain Line    ${container_id}    report ready
    Log Lines Should Be CloudWatch Events    ${container_id}    ${logs}

A Failing Job Reports Its Exit Code On The Daemon And On ECS
    [Documentation]    A job that fails exits 3, and both the daemon and ECS say so.
    ${container_id}=    Create Fargate Container    sh    -c    echo disk full >&2; exit 3
    Start Fargate Container    ${container_id}
    Container Should Have Exited With Code    ${container_id}    3
