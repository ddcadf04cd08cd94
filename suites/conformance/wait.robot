*** Settings ***
Documentation    `POST /containers/{id}/wait` (`docker wait`, and `docker run` itself): each
...              condition answers when it holds, with the container's exit code.

Resource         ../../resources/conformance.resource

Test Teardown    Clean Up Probe Containers

Test Tags        fargate-tasks:1


*** Test Cases ***
Wait Answers With The Exit Code Once The Container Exits
    [Documentation]    `condition=not-running` on a running container answers when it has exited,
    ...    with its exit code as `StatusCode`.
    ...    Docker: https://docs.docker.com/reference/api/engine/version/v1.44/#tag/Container/operation/ContainerWait
    ${container_id}=    Run Probe Container    sh    -c    sleep 1; exit 4
    ${answer}=    Wait Through The API    ${container_id}    not-running
    Should Be Equal As Integers    ${answer.json()}[StatusCode]    4    msg=The wait answered ${answer.json()}
    ${status}=    Get Container Status    ${container_id}
    Should Be Equal    ${status}    exited    msg=The wait answered while the container was ${status}

Wait For The Next Exit Answers When The Running Container Exits
    [Documentation]    `condition=next-exit` on a running container answers when it exits, with
    ...    its exit code (what `docker run` waits for).
    ...    Docker: https://docs.docker.com/reference/api/engine/version/v1.44/#tag/Container/operation/ContainerWait
    ${container_id}=    Run Probe Container    sh    -c    sleep 1; exit 5
    ${answer}=    Wait Through The API    ${container_id}    next-exit
    Should Be Equal As Integers    ${answer.json()}[StatusCode]    5    msg=The wait answered ${answer.json()}
    ${status}=    Get Container Status    ${container_id}
    Should Be Equal    ${status}    exited    msg=The wait answered while the container was ${status}

Wait On An Exited Container Answers At Once With Its Exit Code
    [Documentation]    `condition=not-running` on a container that has exited answers at once.
    ...    Docker: https://docs.docker.com/reference/api/engine/version/v1.44/#tag/Container/operation/ContainerWait
    ${container_id}=    Run Probe Container    sh    -c    exit 6
    Probe Should Have Exited With Code    ${container_id}    6
    ${answer}=    Wait Through The API    ${container_id}    not-running
    Should Be Equal As Integers    ${answer.json()}[StatusCode]    6    msg=The wait answered ${answer.json()}

Wait For Removal Answers Once The Container Is Removed
    [Documentation]    `condition=removed` answers once the container is gone (what `docker run
    ...    --rm` waits for), and only then.
    ...    Docker: https://docs.docker.com/reference/api/engine/version/v1.44/#tag/Container/operation/ContainerWait
    ${container_id}=    Run Probe Container    sleep    2    host_config=${{ {"AutoRemove": True} }}
    ${answer}=    Wait Through The API    ${container_id}    removed
    Should Be Equal As Integers    ${answer.json()}[StatusCode]    0    msg=The wait answered ${answer.json()}
    Container Should Not Exist    ${container_id}
