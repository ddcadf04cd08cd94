*** Settings ***
Documentation     Self-tests of the Fargate task budget on the embedded simulator: a refused create
...               gives its slot back, and a create beyond the budget fails with the budget message
...               before a single request reaches the daemon.

Library           SockerlessLibrary    task_budget=2

Suite Teardown    Disconnect From Sockerless

Test Tags         library    budget


*** Variables ***
${IMAGE}        alpine:latest
${EXHAUSTED}    Fargate task budget exhausted: this run (budget id *) already created 2
...             containers of its budget of 2; raise FARGATE_TASK_BUDGET (or
...             SOCKERLESS_KIT_TASK_BUDGET) if the suite really needs more (nothing was sent to
...             the daemon)


*** Test Cases ***
A Refused Create Gives Its Slot Back
    [Documentation]    The daemon refuses a taken name (409): no container, so no task can follow,
    ...    and the budget counts the create no longer.
    ${name}=    Generate Container Name    budget
    Create Container    ${IMAGE}    true    name=${name}
    ${answer}=    Create Container    ${IMAGE}    true    name=${name}    expected_status=409
    Should Be Equal    ${answer}    ${None}
    ${budget}=    Get Fargate Task Budget
    Should Be Equal    ${budget}[used]    ${1}
    Should Be Equal    ${budget}[given_back]    ${1}
    Should Be Equal    ${budget}[remaining]    ${1}

A Create Beyond The Budget Fails Before The Daemon Is Asked
    [Documentation]    The budget counts creates across tests (a cleaned container keeps its
    ...    slot: its task was launched); the third create fails and sends nothing.
    Create Container    ${IMAGE}    true
    ${before}=    Get Daemon Request Count
    Run Keyword And Expect Error    ${EXHAUSTED}    Create Container    ${IMAGE}    true
    ${after}=    Get Daemon Request Count
    Should Be Equal    ${after}    ${before}
    ${budget}=    Get Fargate Task Budget
    Should Be Equal    ${budget}[description]    2 of 2 used, 1 create denied (budget id ${budget}[budget_id])
    Should Be Equal    ${budget}[shared_by]    process
