"""The simulator's AWS plane: in-process moto made a Fargate-like ECS with real workloads.

Importing it first makes botocore parse each model file once per process (see ``model_cache``),
before moto's import would parse the EC2 model six times.
"""

from .model_cache import share_parsed_models

share_parsed_models()
