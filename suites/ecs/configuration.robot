*** Settings ***
Documentation     Where the suites get their ECS configuration from (AC 1, 2). Launches no
...               Fargate task.

Library           OperatingSystem
Resource          ../../resources/ecs_suite.resource

Suite Setup       Prepare ECS Suite
Suite Teardown    Finish ECS Suite

# Launches no Fargate task, so it is not `slow`: `--exclude slow` (the spec's -short) keeps it.
Test Tags         ecs


*** Test Cases ***
ECS Cluster And VPC Configuration Come From The Environment
    [Documentation]    AC 2: cluster, subnets and security groups are read from
    ...    `SOCKERLESS_ECS_CLUSTER`, `SOCKERLESS_ECS_SUBNETS` and
    ...    `SOCKERLESS_ECS_SECURITY_GROUP(S)` when set; the embedded simulator reports the ones
    ...    it created. AC 1: reaching this test means credentials were available (or the target
    ...    is the simulator); without them the suite is skipped before connecting.
    [Tags]    config
    ${info}=    Get Target Info
    Should Not Be Empty    ${info}[cluster]
    Should Not Be Empty    ${info}[subnets]    msg=No subnet configured for the Fargate tasks
    Setting Should Match Environment    ${info}[cluster]    SOCKERLESS_ECS_CLUSTER
    Should Not Be Equal    ${info}[credentials]    missing


*** Keywords ***
Setting Should Match Environment
    [Documentation]    When ``variable`` is set in the environment, ``actual`` equals it.
    [Arguments]    ${actual}    ${variable}
    ${expected}=    Get Environment Variable    ${variable}    ${actual}
    Should Be Equal    ${actual}    ${expected}
