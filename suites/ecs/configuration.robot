*** Settings ***
Documentation     Where the suites get their ECS configuration from (AC 1, 2). Launches no
...               Fargate task.

Library           Collections
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
    ...    it created. Subnets and security groups may be left to the daemon: the exec suite
    ...    then reads the ones its task used from the task's ENI (and proves configured ones
    ...    are the ones used). AC 1: reaching this test means credentials were available (or
    ...    the target is the simulator); without them the suite is skipped before connecting.
    [Tags]    config    fargate-tasks:0
    ${info}=    Get Target Info
    Should Not Be Empty    ${info}[cluster]    msg=The target names no ECS cluster
    Setting Should Match Environment    ${info}[cluster]    SOCKERLESS_ECS_CLUSTER
    List Setting Should Match Environment    ${info}[subnets]    SOCKERLESS_ECS_SUBNETS
    List Setting Should Match Environment    ${info}[security_groups]
    ...    SOCKERLESS_ECS_SECURITY_GROUPS    SOCKERLESS_ECS_SECURITY_GROUP
    Should Not Be Equal    ${info}[credentials]    missing    msg=The target's AWS credentials


*** Keywords ***
Setting Should Match Environment
    [Documentation]    When ``variable`` is set in the environment, ``actual`` equals it.
    [Arguments]    ${actual}    ${variable}
    ${expected}=    Get Environment Variable    ${variable}    ${actual}
    Should Be Equal    ${actual}    ${expected}    msg=The target's setting against ${variable}

List Setting Should Match Environment
    [Documentation]    When the first of ``variables`` set in the environment holds a comma list,
    ...    ``actual`` is that list; when none is set, anything passes.
    [Arguments]    ${actual}    @{variables}
    FOR    ${variable}    IN    @{variables}
        ${value}=    Get Environment Variable    ${variable}    ${EMPTY}
        IF    $value.strip()
            VAR    @{expected}=    @{{ [item.strip() for item in $value.split(",") if item.strip()] }}
            Lists Should Be Equal    ${actual}    ${expected}    msg=${variable}=${value}
            RETURN
        END
    END
