*** Settings ***
Documentation     Container logs as `docker logs` reads them: the two streams apart, exactly what
...               the command wrote, `--tail`, `--since`, `--until`, `--timestamps`, `--follow`,
...               empty lines. Most probes read the logs of one container that has exited.
Metadata          fargate-tasks    1

Resource          ../../resources/conformance.resource

Suite Setup       Run The Logged Command
Suite Teardown    Clean Up Shared Probe Containers
Test Teardown     Clean Up Probe Containers


*** Variables ***
# Written by the shared container: `two` on stderr, the rest on stdout, `four` well after the
# others (so that a moment between them can be named).
@{STDOUT_LINES}    one    three    four    ${DONE}
${PAUSE}           1.5
# What is left of the pause between `three` and `four` in their timestamps, whatever the clock.
${MIN_GAP}         1.0
# The follow stream of a container that runs this long must end once it exits.
${FOLLOW_BOUND}    8


*** Test Cases ***
Stdout And Stderr Lines Come On Their Own Streams
    [Documentation]    Each line comes on the stream it was written to: stdout lines as stream 1,
    ...    stderr lines as stream 2.
    ...    Docker: https://docs.docker.com/reference/api/engine/version/v1.44/#tag/Container/operation/ContainerLogs
    ...    (stream format: https://docs.docker.com/reference/api/engine/version/v1.44/#tag/Container/operation/ContainerAttach)
    [Tags]    fargate-tasks:0
    ${lines}=    Get Container Log Lines    ${LOGGED}
    Log Line Should Come On    ${lines}    one    stdout
    Log Line Should Come On    ${lines}    two    stderr

Logs Hold Exactly The Lines The Command Wrote
    [Documentation]    The stdout log is the command's stdout, line for line: nothing added,
    ...    nothing lost, in order.
    ...    Docker: https://docs.docker.com/reference/cli/docker/container/logs/
    [Tags]    fargate-tasks:0
    ${lines}=    Get Container Log Lines    ${LOGGED}    stderr=${FALSE}
    Log Texts Should Be    ${lines}    @{STDOUT_LINES}

Tail Gives The Last Lines
    [Documentation]    `--tail 2` (`tail=2`): the last two lines.
    ...    Docker: https://docs.docker.com/reference/cli/docker/container/logs/
    [Tags]    fargate-tasks:0
    ${lines}=    Get Container Log Lines    ${LOGGED}    tail=2
    Log Texts Should Be    ${lines}    four    ${DONE}

Since Gives The Lines From That Moment On
    [Documentation]    `--since <time>` (`since`): the lines written at that time or later (here:
    ...    from the timestamp of the line `four` on).
    ...    Docker: https://docs.docker.com/reference/cli/docker/container/logs/
    [Tags]    fargate-tasks:0
    ${all}=    Get Container Log Lines    ${LOGGED}    stderr=${FALSE}
    ${four}=    Line With Text    ${all}    four
    ${later}=    Get Container Log Lines    ${LOGGED}    since=${four}[timestamp]
    Log Texts Should Be    ${later}    four    ${DONE}

Until Gives The Lines Up To That Moment
    [Documentation]    `--until <time>` (`until`): no line written after that time (here: the
    ...    timestamp of the line `three`, which comes ${PAUSE} s before `four`).
    ...    Docker: https://docs.docker.com/reference/cli/docker/container/logs/
    [Tags]    fargate-tasks:0
    ${all}=    Get Container Log Lines    ${LOGGED}    stderr=${FALSE}
    ${three}=    Line With Text    ${all}    three
    ${earlier}=    Get Container Log Lines    ${LOGGED}    until=${three}[timestamp]
    ${texts}=    Evaluate    [line["text"] for line in $earlier]
    List Should Contain Value    ${texts}    one    msg=The lines until `three` are ${texts}
    List Should Not Contain Value    ${texts}    four    msg=The lines until `three` are ${texts}

Every Line Carries The Time It Was Written
    [Documentation]    `--timestamps` (`timestamps=true`): every line starts with an RFC 3339
    ...    timestamp of when it was written: in order, within the time the container ran, and
    ...    the line `four`, written ${PAUSE} s after `three`, at least ${MIN_GAP} s later.
    ...    Docker: https://docs.docker.com/reference/cli/docker/container/logs/
    [Tags]    fargate-tasks:0
    ${logs}=    Get Container Logs    ${LOGGED}    stderr=${FALSE}    timestamps=${TRUE}
    ${stamps}=    Log Lines Should Have Timestamps    ${logs}
    ${inspect}=    Inspect Container    ${LOGGED}
    Timestamps Should Lie Within The Run    ${stamps}    ${inspect}[State]
    ${lines}=    Get Container Log Lines    ${LOGGED}    stderr=${FALSE}
    ${three}=    Line With Text    ${lines}    three
    ${four}=    Line With Text    ${lines}    four
    ${gap}=    Evaluate    ($four["timestamp"] - $three["timestamp"]).total_seconds()
    Should Be True    ${gap} >= ${MIN_GAP}
    ...    msg=The line `four` is stamped ${gap} s after `three`, written ${PAUSE} s after it

Follow Ends When The Container Exits
    [Documentation]    `--follow` (`follow=true`): the stream sends the lines as they come and
    ...    ends when the container exits.
    ...    Docker: https://docs.docker.com/reference/cli/docker/container/logs/
    [Tags]    fargate-tasks:1
    ${container_id}=    Run Probe Container    sh    -c    echo begin; sleep 2; echo end
    ${started}=    Get Time    epoch
    ${logs}=    Get Container Logs    ${container_id}    follow=${TRUE}
    ${took}=    Evaluate    time.time() - ${started}    modules=time
    Should Not Be True    ${logs.timed_out}    msg=The follow stream was still open after ${LOGS_TIMEOUT}
    Output Should Contain Line    ${logs}    end
    Should Be True    ${took} < ${FOLLOW_BOUND}
    ...    msg=The follow stream of a 2 s command ended after ${took} s, not when the container exited

Empty Lines Are Kept
    [Documentation]    A line the command writes empty is an empty line of the logs too.
    ...    Docker: https://docs.docker.com/reference/cli/docker/container/logs/
    ...    (the json-file and local log drivers keep every line)
    [Tags]    fargate-tasks:1
    ${container_id}=    Run Probe Container    sh    -c    printf 'a\\n\\nb\\n'; echo ${DONE}
    Wait For Probe Output    ${container_id}
    ${logs}=    Get Container Logs    ${container_id}    stderr=${FALSE}
    ${stdout}=    Call Method    ${logs.output}    text    stdout
    Should Contain    ${stdout}    a\n\nb\n    msg=The stdout log is ${{ repr($stdout) }}    values=${FALSE}


*** Keywords ***
Run The Logged Command
    [Documentation]    The shared container: writes its lines, two of them ${PAUSE} s apart, and exits.
    ${container_id}=    Create Shared Probe Container    sh    -c
    ...    echo one; echo two >&2; echo three; sleep ${PAUSE}; echo four; echo ${DONE}
    Start Probe Container    ${container_id}
    Probe Should Have Exited With Code    ${container_id}    0
    Wait For Probe Output    ${container_id}
    VAR    ${LOGGED}=    ${container_id}    scope=SUITE    # robocop: off=VAR05

Line With Text
    [Documentation]    The line of ``lines`` whose text is ``text``.
    [Arguments]    ${lines}    ${text}
    FOR    ${line}    IN    @{lines}
        IF    $line["text"] == $text    RETURN    ${line}
    END
    Fail    No log line '${text}' among ${lines}

Timestamps Should Lie Within The Run
    [Documentation]    The ``stamps`` are in order and between the container's `StartedAt` and
    ...    `FinishedAt` (one second either side, for clocks that round).
    [Arguments]    ${stamps}    ${state}
    ${started}=    Evaluate    datetime.datetime.fromisoformat($state["StartedAt"])    modules=datetime
    ${finished}=    Evaluate    datetime.datetime.fromisoformat($state["FinishedAt"])    modules=datetime
    ${slack}=    Evaluate    datetime.timedelta(seconds=1)    modules=datetime
    Should Be True    $stamps == sorted($stamps)    msg=The timestamps are not in order: ${stamps}
    FOR    ${stamp}    IN    @{stamps}
        Should Be True    $started - $slack <= $stamp <= $finished + $slack
        ...    msg=A line's timestamp ${stamp} is outside the run (started ${started}, finished ${finished})
    END
