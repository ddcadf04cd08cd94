*** Settings ***
Documentation    `docker kill` and `docker stop`: the signal each sends, the exit code that
...              follows (137 for SIGKILL, the process's own when it handles the signal), and the
...              main process as PID 1.

Resource         ../../resources/conformance.resource

Test Teardown    Clean Up Probe Containers

Test Tags        fargate-tasks:1


*** Variables ***
# What each command does once its traps are set (it says so first: `Wait Until Probe Is Ready`).
${WAITING}    while true; do sleep 0.1; done


*** Test Cases ***
Kill Sends SIGKILL By Default: Exit Code 137
    [Documentation]    `docker kill` without `--signal` sends SIGKILL: the container exits with
    ...    137 (128 + 9), even though its command ignores SIGTERM.
    ...    Docker: https://docs.docker.com/reference/cli/docker/container/kill/
    ${container_id}=    Run Probe Container    sh    -c    trap '' TERM; ${SAY_READY}; ${WAITING}
    Wait Until Probe Is Ready    ${container_id}
    Kill Container    ${container_id}
    Probe Should Have Exited With Code    ${container_id}    137

Kill Delivers The Signal It Names
    [Documentation]    `docker kill --signal SIGUSR1` delivers SIGUSR1 to the main process: its
    ...    handler runs, and the container's exit code is the one the handler exits with (5).
    ...    Docker: https://docs.docker.com/reference/cli/docker/container/kill/#signal
    ${container_id}=    Run Probe Container    sh    -c
    ...    trap '' TERM; trap 'echo got USR1; exit 5' USR1; ${SAY_READY}; ${WAITING}
    Wait Until Probe Is Ready    ${container_id}
    Kill Container    ${container_id}    signal=SIGUSR1
    Probe Should Have Exited With Code    ${container_id}    5
    Wait Until Logs Contain Line    ${container_id}    got USR1

Stop Sends SIGTERM First: A Process That Handles It Exits With Its Own Code (143)
    [Documentation]    `docker stop` sends SIGTERM and waits: a command that handles it exits on
    ...    its own, here with 143 (128 + 15, as shells do), which is the container's exit code.
    ...    Docker: https://docs.docker.com/reference/cli/docker/container/stop/
    ${container_id}=    Run Probe Container
    ...    sh
    ...    -c
    ...    trap 'echo got TERM; exit 143' TERM; ${SAY_READY}; ${WAITING}
    Wait Until Probe Is Ready    ${container_id}
    Stop Probe Container    ${container_id}
    Probe Should Have Exited With Code    ${container_id}    143
    Wait Until Logs Contain Line    ${container_id}    got TERM

Main Process Runs As PID 1
    [Documentation]    The command is the container's PID 1, so a signal it has no handler for
    ...    (SIGTERM from `docker stop`) does not end it: only SIGKILL does.
    ...    Docker: https://docs.docker.com/reference/cli/docker/container/run/#init
    ${container_id}=    Run Probe Container    sh    -c    echo "pid $$"; echo ${DONE}
    Probe Should Have Exited With Code    ${container_id}    0
    ${logs}=    Wait For Probe Output    ${container_id}
    Output Should Contain Line    ${logs}    pid 1
