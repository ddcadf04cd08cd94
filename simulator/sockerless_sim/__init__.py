"""Embedded Fargate simulator: a Docker API daemon backed by ECS, CloudWatch Logs and EC2 in moto.

Each container becomes an ECS task whose command really runs on this host under a per-task
agent; AWS state lives in an in-process moto server that sockerless-style clients reach over HTTP.
"""
