*** Settings ***
Documentation     A long-running service container serves exec through the agent in its Fargate
...               task, with the environment and working directory it was created with.

Resource          sockerless_ecs_acceptance/resources/ecs_suite.resource
Resource          sockerless_ecs_acceptance/resources/containers.resource
Resource          sockerless_ecs_acceptance/resources/exec.resource
Resource          sockerless_ecs_acceptance/resources/cleanup.resource

Suite Setup       Prepare ECS Suite
Suite Teardown    Finish ECS Suite
Test Teardown     Clean Up And Verify Test Containers

Test Tags         team-example


*** Test Cases ***
Exec Sees The Service's Environment And Working Directory
    [Documentation]    A command run in the container sees the environment and the working
    ...    directory given at create, and its exit code comes back.
    [Tags]    fargate-tasks:1
    VAR    &{env}=    SERVICE_MODE=batch
    ${container_id}=    Create Fargate Container    tail    -f    /dev/null    env=${env}
    ...    working_dir=/tmp
    Start Fargate Container    ${container_id}
    ${result}=    Run Process In Container    ${container_id}    sh    -c    echo "$SERVICE_MODE"; pwd
    Should Be Equal As Integers    ${result.rc}    0    msg=the exec's exit code
    Should Be Equal    ${result.stdout_lines}[0]    batch    msg=the exec's first line
    Should Be Equal    ${result.stdout_lines}[1]    /tmp    msg=the exec's second line
    Exec Should Return Exit Code    ${container_id}    7    sh    -c    exit 7
