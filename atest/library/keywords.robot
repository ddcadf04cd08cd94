*** Settings ***
Documentation     Self-tests of SockerlessLibrary's keyword behaviour on the embedded simulator:
...               exact failure texts, expected-status handling, whole-line matching, names,
...               the RequestsLibrary session, and automatic cleanup by scope.

Library           Collections
Library           RequestsLibrary
Library           SockerlessLibrary    logs_timeout=10s

Suite Setup       Prepare Library Self-Tests
Suite Teardown    Disconnect From Sockerless

Test Tags         library


*** Variables ***
${UNKNOWN_ID}          0000000000000000000000000000000000000000000000000000000000000000
${IMAGE}               alpine:latest
${SUITE_OWNED}         ${EMPTY}
${LEFT_BEHIND}         ${EMPTY}
${LOGS}                ${EMPTY}
${UNKNOWN_404}         DaemonResponseError: inspect container on unix://*failed: HTTP 404 Not Found
...                    (expected 200): No such container: ${UNKNOWN_ID}
${NO_IP}               EQUALS:Container has no IP address in NetworkSettings.IPAddress or
...                    NetworkSettings.Networks[*].IPAddress; NetworkSettings:
...                    {"IPAddress": "", "Networks": {"default": {"IPAddress": ""}}}
${NOTHING_TO_PROVE}    No log line to prove for container *: the logs given hold 0 line(s), so
...                    matching them*`Wait Until Logs Contain Line`*tail=0*
${NEVER_CREATED}       Container Should Leave No AWS Resources proves what happened to a container
...                    this run created, but '${UNKNOWN_ID}' is none of the * it created: create
...                    it with `Create Container`*
${ECHO_ONLY}           Logs of container * had no stdout line equal to 'hello from fargate' within 1 s
...                    (*request(s)). stdout lines in the last read (1):\n'echo hello from fargate'\nstderr
...                    lines in the last read (0):\nno lines


*** Test Cases ***
Unknown Container Fails With Operation, Status And Daemon Message
    [Documentation]    A 404 names the operation, the HTTP status, the expected status and the
    ...    daemon's message.
    Run Keyword And Expect Error    ${UNKNOWN_404}    Inspect Container    ${UNKNOWN_ID}

Expected Error Status Returns The Daemon's Answer
    [Documentation]    With ``expected_status=404`` the keyword passes and returns the error body.
    ${answer}=    Inspect Container    ${UNKNOWN_ID}    expected_status=404
    Should Be Equal    ${answer}[message]    No such container: ${UNKNOWN_ID}

Wrong Expected Status Fails With Both Statuses
    [Documentation]    A successful start is still a failure when another status was expected.
    ${container_id}=    Create Container    ${IMAGE}    echo    expected-status
    Run Keyword And Expect Error
    ...    DaemonResponseError: start container on unix://*failed: HTTP 204 No Content (expected 304): empty body
    ...    Start Container    ${container_id}    expected_status=304

Status Lists And Any Are Accepted
    [Documentation]    ``404,409`` and ``any`` are valid expectations; a word is not.
    Inspect Container    ${UNKNOWN_ID}    expected_status=200,404
    Inspect Container    ${UNKNOWN_ID}    expected_status=any
    Run Keyword And Expect Error
    ...    Invalid expected_status 'ok': use an HTTP status code (204), a comma-separated list (204,304) or 'any'
    ...    Inspect Container    ${UNKNOWN_ID}    expected_status=ok

Echoed Command Line Does Not Satisfy Whole-Line Matching
    [Documentation]    A container whose only output is the command line itself, as a daemon
    ...    that echoes the command would produce, must not pass for the command's output.
    ${container_id}=    Create Container    ${IMAGE}    echo    echo hello from fargate
    Start Container    ${container_id}
    ${logs}=    Wait Until Logs Contain Line    ${container_id}    echo hello from fargate
    Run Keyword And Expect Error
    ...    No stdout line equals 'hello from fargate'. Lines seen (1):\n'echo hello from fargate'
    ...    Output Should Contain Line    ${logs}    hello from fargate
    Output Should Not Contain Line    ${logs}    hello from fargate
    Run Keyword And Expect Error    ${ECHO_ONLY}
    ...    Wait Until Logs Contain Line    ${container_id}    hello from fargate    timeout=1s

Frames And Timestamps Are Checked
    [Documentation]    Logs are framed on stdout and every line carries a parseable timestamp.
    ${container_id}=    Create Container    ${IMAGE}    sh    -c    echo one; echo two
    Start Container    ${container_id}
    Wait Until Logs Contain Line    ${container_id}    two
    ${logs}=    Get Container Logs    ${container_id}    timestamps=${TRUE}
    Stream Should Be Multiplexed    ${logs}
    Frames Should Use Stream Type    ${logs}    stdout
    ${times}=    Log Lines Should Have Timestamps    ${logs}
    ${lines}=    Get Output Lines    ${logs}
    Should Be True    $lines == ["one", "two"] and len($times) == 2    msg=${lines} / ${times}
    VAR    ${LOGS}=    ${logs}    scope=SUITE    # robocop: off=VAR05

Frame Type Mismatch Lists The Frames
    [Documentation]    Every frame of the wrong type is named in the failure.
    Should Not Be Equal    ${LOGS}    ${EMPTY}    msg=The previous test did not run
    Run Keyword And Expect Error
    ...    Expected every frame to use stream type 2 (stderr): frame 0: type 1, frame 1: type 1
    ...    Frames Should Use Stream Type    ${LOGS}    2

Exec Output And Exit Codes
    [Documentation]    Exec output is matched as whole lines; a wrong exit code shows the inspect.
    ${container_id}=    Create Container    ${IMAGE}    tail    -f    /dev/null
    Start Container    ${container_id}
    ${exec_id}=    Create Exec    ${container_id}    sh    -c    echo exec-works; exit 3
    ${stream}=    Start Exec    ${exec_id}
    Output Should Contain Line    ${stream}    exec-works
    Run Keyword And Expect Error
    ...    Exec ${exec_id} exit code is 3, expected 0; exec inspect: {*"ExitCode": 3*}
    ...    Exec Should Have Exited With Code    ${exec_id}    0
    Exec Should Have Exited With Code    ${exec_id}    3

Logs Read With Tail 0 Prove Nothing On CloudWatch
    [Documentation]    A read that holds no line (``tail=0``, or one made before CloudWatch
    ...    delivered the first event) fails the CloudWatch proof, saying what to do, although
    ...    the stream holds the container's event; the read that held the line passes it.
    ${container_id}=    Create Container    ${IMAGE}    echo    proven once
    Start Container    ${container_id}
    Container Should Run As A Fargate Task    ${container_id}
    ${logs}=    Wait Until Logs Contain Line    ${container_id}    proven once
    Log Lines Should Be CloudWatch Events    ${container_id}    ${logs}
    ${none}=    Get Container Logs    ${container_id}    tail=0
    Run Keyword And Expect Error    ${NOTHING_TO_PROVE}
    ...    Log Lines Should Be CloudWatch Events    ${container_id}    ${none}

A Proof About A Container The Run Never Created Fails
    [Documentation]    A made-up 64-hex ID has no AWS resources, which proves nothing: the
    ...    absence proof fails at once instead of passing.
    Run Keyword And Expect Error    ${NEVER_CREATED}
    ...    Container Should Leave No AWS Resources    ${UNKNOWN_ID}

Invalid Container Id And Missing IP Address Fail Clearly
    [Documentation]    Checks on values say what was wrong with them.
    Container Id Should Be Valid    ${UNKNOWN_ID}
    Run Keyword And Expect Error
    ...    'ABC' is not a valid container ID (64 lowercase hex characters)
    ...    Container Id Should Be Valid    ABC
    VAR    &{empty}=    IPAddress=${EMPTY}
    VAR    &{no_address}=    NetworkSettings=${{ {"IPAddress": "", "Networks": {"default": $empty}} }}
    Run Keyword And Expect Error    ${NO_IP}    Get Container IP Address    ${no_address}
    VAR    &{private}=    IPAddress=10.0.1.47
    VAR    &{networks_only}=    NetworkSettings=${{ {"IPAddress": "", "Networks": {"default": $private}} }}
    ${address}=    Get Container IP Address    ${networks_only}
    Should Be Equal    ${address}    10.0.1.47

Generated Names Come From The Test Name
    [Documentation]    Lowercased, invalid characters replaced, 8 random hex digits appended.
    ${name}=    Generate Container Name
    Should Match Regexp    ${name}    ^generated-names-come-from-the-test-name-[0-9a-f]{8}$
    ${other}=    Generate Container Name    prefix=My Prefix!
    Should Match Regexp    ${other}    ^my-prefix-[0-9a-f]{8}$

Containers Carry The Run Labels
    [Documentation]    Every container gets the run id and project labels next to its own.
    ${run_id}=    Get Run Id
    VAR    &{labels}=    team=qa
    ${container_id}=    Create Container    ${IMAGE}    echo    labelled    labels=${labels}
    ${entry}=    Container Should Be Listed    ${container_id}
    Dictionary Should Contain Item    ${entry}[Labels]    team    qa
    Dictionary Should Contain Item    ${entry}[Labels]    sockerless-kit.run-id    ${run_id}
    Dictionary Should Contain Item    ${entry}[Labels]    sockerless-kit.project    sockerless-ecs-acceptance
    VAR    &{filters}=    label=${{ ["team=nobody"] }}
    Container Should Not Be Listed    ${container_id}    filters=${filters}

The Negotiated API Version Is Reported
    [Documentation]    The library's first request negotiates the API version with the daemon's
    ...    ``/_ping``; the simulator, like sockerless, speaks 1.44.
    Daemon Should Respond To Ping
    ${info}=    Get Target Info
    Should Be Equal    ${info}[api_version]    1.44
    Should Be Equal    ${info}[api_version_source]    negotiated

RequestsLibrary Session Reaches The Daemon
    [Documentation]    ``* On Session`` keywords go over the target's unix socket.
    Create Sockerless Session    alias=daemon
    ${response}=    GET On Session    daemon    /_ping
    Should Be Equal    ${response.text}    OK
    GET On Session    daemon    /containers/${UNKNOWN_ID}/json    expected_status=404
    ${response}=    GET On Session    daemon    /containers/json    params=all=true
    Should Be True    isinstance($response.json(), list)

Attach Over WebSocket Returns The Output
    [Documentation]    Attach relays the main process' output from the moment it attaches.
    ${container_id}=    Create Container    ${IMAGE}    sh    -c    sleep 1; echo attached
    Start Container    ${container_id}
    ${output}=    Attach To Container Over WebSocket    ${container_id}    timeout=10s
    Should Be Equal    ${output}    attached\n

A Container Left By A Test Is Created
    [Documentation]    Creates a container and does not clean it: the library's listener must.
    ${container_id}=    Create Container    ${IMAGE}    tail    -f    /dev/null
    Start Container    ${container_id}
    VAR    ${LEFT_BEHIND}=    ${container_id}    scope=SUITE    # robocop: off=VAR05

A Container Left By A Test Is Cleaned At The End Of That Test
    [Documentation]    The previous test's container is gone from the daemon and from AWS, while
    ...    the one the suite setup created is still there (suite scope).
    Should Not Be Empty    ${LEFT_BEHIND}    msg=The previous test did not run
    Container Should Not Be Listed    ${LEFT_BEHIND}
    Container Should Leave No AWS Resources    ${LEFT_BEHIND}
    Container Should Be Listed    ${SUITE_OWNED}

Explicit Cleanup Of The Current Test
    [Documentation]    ``Clean Up Registered Resources`` cleans this test's containers only.
    ${container_id}=    Create Container    ${IMAGE}    echo    explicit
    ${cleaned}=    Clean Up Registered Resources    scope=test
    Should Be Equal    ${cleaned}    ${{ [$container_id] }}
    Container Should Not Be Listed    ${container_id}
    Container Should Be Listed    ${SUITE_OWNED}
    Run Keyword And Expect Error    Unknown scope 'everything': use test, suite or all
    ...    Clean Up Registered Resources    scope=everything

Fargate Usage Is Counted On The AWS Side
    [Documentation]    The tasks this run launched are counted, with their seconds.
    ${usage}=    Get Fargate Task Usage
    Should Be True    ${usage}[tasks] >= 4
    Should Be True    ${usage}[task_seconds] >= 0
    ${requests}=    Get Daemon Request Count
    Should Be True    ${requests} > 10


*** Keywords ***
Prepare Library Self-Tests
    [Documentation]    Connects and creates one container owned by the suite (not by a test).
    Skip If AWS Credentials Are Missing
    Connect To Sockerless
    Daemon Should Respond To Ping
    ${container_id}=    Create Container    ${IMAGE}    echo    suite-owned
    VAR    ${SUITE_OWNED}=    ${container_id}    scope=SUITE    # robocop: off=VAR05
