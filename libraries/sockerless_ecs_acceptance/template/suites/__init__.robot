*** Settings ***
Documentation    Our ECS acceptance suites for sockerless, written with the keywords of the
...              sockerless ECS acceptance kit (sockerless-ecs-acceptance). The kit's library is
...              loaded here, at the top, so that it sees the whole run end: the report's metadata
...              then says what the run created, cleaned and proved gone on AWS, and, when the
...              target died or a cleanup failed, what may be left and the command that sweeps it.

Resource         sockerless_ecs_acceptance/resources/sockerless.resource

Name             ECS Acceptance
