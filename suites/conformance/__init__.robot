*** Settings ***
Documentation     Docker conformance: one probe per Docker behaviour a client relies on (create
...               options, logs, exec, kill and stop, waits, list filters, inspect, error
...               answers), each naming the Docker documentation it checks. Every probe passes
...               on a real Docker Engine (`DOCKER_ONLY` true: Docker-only mode); against a
...               Fargate backend (ECS mode, the default) the same probes also check the ECS
...               side where they can. The run writes the matrix: `conformance.json`,
...               `conformance.html` and a table in this log (docs/conformance.md).
...               Tagged `conformance`, not `ecs`: `robot --include conformance suites`.

Resource          ../../resources/conformance.resource

Suite Setup       Prepare Conformance Suite
Suite Teardown    Finish Conformance Suite

Test Tags         conformance

Name              Docker Conformance
