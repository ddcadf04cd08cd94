*** Settings ***
Documentation    The sockerless ECS acceptance kit: Robot Framework suites that prove, end to end,
...              that sockerless' ECS backend runs every container as an AWS ECS Fargate task
...              (spec TST-010). The metadata says which target ran them, the run id, how many
...              Fargate tasks the run launched and for how long, and what the run cleaned. The
...              library is loaded here, at the top, so that it sees the whole run end: when the
...              target died or a cleanup failed, the last lines, the metadata and the journal say
...              what may be left and give the command that sweeps it.

Resource         ../resources/sockerless.resource

Name             Sockerless ECS Acceptance
