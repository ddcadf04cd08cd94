*** Settings ***
Documentation     `docker ps` (`GET /containers/json`): what is listed without `--all`, and the
...               `label`, `status`, `name` and `id` filters. Three shared containers, one per
...               state (running, exited, created), each labelled with its state.
Metadata          fargate-tasks    3

Resource          ../../resources/conformance.resource

Suite Setup       Create One Container Per State
Suite Teardown    Clean Up Shared Probe Containers

Test Tags         fargate-tasks:0


*** Variables ***
${STATE_LABEL}    conformance.list-state


*** Test Cases ***
Without All Only Running Containers Are Listed
    [Documentation]    `docker ps` (no `--all`) lists running containers only.
    ...    Docker: https://docs.docker.com/reference/cli/docker/container/ls/
    Container Should Be Listed    ${RUNNING}    all=${FALSE}
    Container Should Not Be Listed    ${EXITED}    all=${FALSE}
    Container Should Not Be Listed    ${CREATED}    all=${FALSE}

Label Filter Lists Only Containers With That Label
    [Documentation]    `--filter label=key=value`: only containers carrying that label.
    ...    Docker: https://docs.docker.com/reference/cli/docker/container/ls/#label
    VAR    &{filters}=    label=${{ [$STATE_LABEL + "=exited"] }}
    Container Should Be Listed    ${EXITED}    filters=${filters}
    Container Should Not Be Listed    ${RUNNING}    filters=${filters}
    Container Should Not Be Listed    ${CREATED}    filters=${filters}

Status Filter Lists Containers In That State
    [Documentation]    `--filter status=exited` / `running` / `created`: only containers in that
    ...    state.
    ...    Docker: https://docs.docker.com/reference/cli/docker/container/ls/#status
    FOR    ${state}    ${listed}    ${other}    IN
    ...    running    ${RUNNING}    ${EXITED}
    ...    exited    ${EXITED}    ${CREATED}
    ...    created    ${CREATED}    ${RUNNING}
        VAR    &{filters}=    status=${{ [$state] }}
        Container Should Be Listed    ${listed}    filters=${filters}
        Container Should Not Be Listed    ${other}    filters=${filters}
    END

Name Filter Matches Part Of A Name
    [Documentation]    `--filter name=<part>`: "The name filter matches on all or part of a
    ...    container's name" (here the name without its first and last characters).
    ...    Docker: https://docs.docker.com/reference/cli/docker/container/ls/#name
    ${inspect}=    Inspect Container    ${RUNNING}
    ${part}=    Evaluate    $inspect["Name"].lstrip("/")[1:-1]
    VAR    &{filters}=    name=${{ [$part] }}
    Container Should Be Listed    ${RUNNING}    filters=${filters}
    Container Should Not Be Listed    ${EXITED}    filters=${filters}

Id Filter Matches The Start Of An ID
    [Documentation]    `--filter id=<prefix>`: the container whose ID starts so.
    ...    Docker: https://docs.docker.com/reference/cli/docker/container/ls/#filter
    VAR    &{filters}=    id=${{ [$RUNNING[:12]] }}
    Container Should Be Listed    ${RUNNING}    filters=${filters}
    Container Should Not Be Listed    ${EXITED}    filters=${filters}

An Unknown Filter Is Refused With 400
    [Documentation]    A filter Docker does not know (`lable`) is an error, 400 `invalid filter`,
    ...    not an empty filter that lists everything.
    ...    Docker: https://docs.docker.com/reference/api/engine/version/v1.44/#tag/Container/operation/ContainerList
    VAR    &{filters}=    lable=${{ [$STATE_LABEL + "=running"] }}
    Run Keyword And Expect Error    *HTTP 400*    List Containers    all=${TRUE}    filters=${filters}


*** Keywords ***
Create One Container Per State
    [Documentation]    A running, an exited and a created container, each labelled with its state,
    ...    named after it.
    ${running}=    Create Shared Probe Container    tail    -f    /dev/null
    ...    labels=${{ {$STATE_LABEL: "running"} }}
    Start Probe Container    ${running}
    ${exited}=    Create Shared Probe Container    true    labels=${{ {$STATE_LABEL: "exited"} }}
    Start Probe Container    ${exited}
    Probe Should Have Exited With Code    ${exited}    0
    ${created}=    Create Shared Probe Container    true    labels=${{ {$STATE_LABEL: "created"} }}
    VAR    ${RUNNING}=    ${running}    scope=SUITE    # robocop: off=VAR05
    VAR    ${EXITED}=    ${exited}    scope=SUITE    # robocop: off=VAR05
    VAR    ${CREATED}=    ${created}    scope=SUITE    # robocop: off=VAR05
