*** Settings ***
Documentation     A long-running container serves exec through the agent in its Fargate task,
...               then stops on request and is removed: one Fargate task.

Resource          ../../resources/ecs_suite.resource
Resource          ../../resources/containers.resource
Resource          ../../resources/exec.resource
Resource          ../../resources/cleanup.resource

Suite Setup       Prepare ECS Suite
Suite Teardown    Finish ECS Suite
Test Teardown     Clean Up And Verify Test Containers

Test Tags         ecs    slow


*** Test Cases ***
Long-Running Container Serves Exec Through The Agent And Stops On Request
    [Documentation]    AC 2, 4: its FARGATE task runs in the configured cluster, subnets and
    ...    security groups, as the task's ENI shows. AC 5: after start the container is
    ...    running with a private IP, the ENI's own address.
    ...    AC 14, 15, 16: `echo exec-works` runs through the agent; exec create answers 201,
    ...    the hijacked stream carries the whole line `exec-works` on stdout, exit code 0.
    ...    AC 17: `sh -c "exit 7"` reports exit code 7. AC 7: stop answers 204, the
    ...    container exits and its task is STOPPED on ECS. AC 8, 18: removal deregisters the
    ...    task definition that was ACTIVE and nothing is left on AWS.
    [Tags]    exec    lifecycle    cleanup    fargate-tasks:1
    ${container_id}=    Create Fargate Container    tail    -f    /dev/null
    Start Fargate Container    ${container_id}
    Fargate Task Should Use The Configured Network    ${container_id}
    Container Should Be Running With Private IP    ${container_id}
    Exec Should Return    ${container_id}    exec-works    echo    exec-works
    Exec Should Return Exit Code    ${container_id}    7    sh    -c    exit 7
    Stop Fargate Container    ${container_id}
    Remove Fargate Container    ${container_id}
