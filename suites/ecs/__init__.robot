*** Settings ***
Documentation    Spec TST-010: ECS Fargate integration tests for sockerless.
...
...              Each suite is one sequential flow on as few Fargate tasks as possible (the
...              spec's cost note): a short-lived `echo` container, a long-running
...              `tail -f /dev/null` container for exec, and an unpullable image. A full run
...              launches at most three tasks. With no `SOCKERLESS_HOST` the suites run against
...              the embedded simulator; with a real target and no AWS credentials every test
...              is skipped (AC 1).

Name             ECS
