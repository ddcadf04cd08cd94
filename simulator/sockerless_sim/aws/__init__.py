"""The simulator's AWS plane: in-process moto made a Fargate-like ECS with real workloads."""
