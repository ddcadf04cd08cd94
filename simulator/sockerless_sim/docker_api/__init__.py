"""The simulator's Docker Engine API daemon (API 1.44 subset) backed by ECS via boto3."""

from .app import DockerApi
from .server import DockerApiServer

__all__ = ["DockerApi", "DockerApiServer"]
