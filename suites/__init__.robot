*** Settings ***
Documentation    The sockerless ECS acceptance kit: Robot Framework suites that prove, end to end,
...              that sockerless' ECS backend runs every container as an AWS ECS Fargate task
...              (spec TST-010). The metadata says which target ran them, the run id, and how
...              many Fargate tasks the run launched and for how long.

Name             Sockerless ECS Acceptance
