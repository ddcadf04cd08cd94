"""Robot keyword components of SockerlessLibrary, thin layers over the library's modules; each
derives from ``LibraryComponent``."""

from __future__ import annotations

from ..client import DockerClient
from ..run.context import LibraryContext


class LibraryComponent:
    """Base of the keyword components: gives access to the shared ``LibraryContext``."""

    def __init__(self, context: LibraryContext) -> None:
        self.ctx = context

    @property
    def client(self) -> DockerClient:
        """The Docker API client (connects lazily, starting the simulator if needed)."""
        return self.ctx.client()
