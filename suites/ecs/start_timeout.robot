*** Settings ***
Documentation     The spec's TestECSStartTimeout: a task that cannot start (its image cannot be
...               pulled) makes start fail with an error within the start budget instead of
...               hanging: one Fargate task, which never reaches RUNNING.

Library           DateTime
Resource          ../../resources/ecs_suite.resource
Resource          ../../resources/containers.resource
Resource          ../../resources/cleanup.resource

Suite Setup       Prepare ECS Suite
Suite Teardown    Finish ECS Suite
Test Teardown     Clean Up And Verify Test Containers

Test Tags         ecs    slow


*** Variables ***
# `.invalid` is reserved (RFC 2606): no registry can ever answer for it.
${UNPULLABLE_IMAGE}    registry.invalid/sockerless-acceptance/does-not-exist:latest
${PULL_FAILURE}        (?i)CannotPullContainer|pull


*** Test Cases ***
Start Of An Unpullable Image Fails With An Error Instead Of Hanging
    [Documentation]    Spec note "TestECSStartTimeout": start answers an error that names the pull
    ...    failure, before ${START_TIMEOUT} has passed, and the container is not left
    ...    "running"; on ECS its task was launched and stopped without running, for the pull
    ...    failure. AC 18: teardown leaves nothing on AWS.
    [Tags]    start-timeout    cleanup    fargate-tasks:1
    ${container_id}=    Create Fargate Container    echo    never runs    image=${UNPULLABLE_IMAGE}
    ${error}=    Start Should Answer An Error Within The Start Budget    ${container_id}
    Should Match Regexp    ${error}    ${PULL_FAILURE}
    ...    msg=Start failed, but not because of the image pull: ${error}
    ${status}=    Get Container Status    ${container_id}
    Should Not Be Equal    ${status}    running    msg=A task that never started shows "running"
    Fargate Task Should Have Failed To Start    ${container_id}    reason=${PULL_FAILURE}
    ...    timeout=${AWS_TIMEOUT}


*** Keywords ***
Start Should Answer An Error Within The Start Budget
    [Documentation]    Starts the container and fails unless start answers an error (not 204)
    ...    before ${START_TIMEOUT} has passed. Returns the error.
    [Arguments]    ${container_id}
    ${budget}=    Convert Time    ${START_TIMEOUT}
    ${started}=    Get Time    epoch
    ${outcome}    ${error}=    Run Keyword And Ignore Error
    ...    Start Container    ${container_id}    timeout=${START_TIMEOUT}
    ${elapsed}=    Evaluate    time.time() - ${started}    modules=time
    Should Be Equal    ${outcome}    FAIL    values=${FALSE}
    ...    msg=Start answered 204 for an image that can never be pulled (${UNPULLABLE_IMAGE}): it must answer an error
    Should Be True    ${elapsed} < ${budget}    msg=Start took ${elapsed} s, budget ${budget} s
    RETURN    ${error}
