"""sockerless' rewrite of a Docker Hub library image to its AWS Public Gallery mirror (the
``image-rewritten`` quirk): Fargate pulls ``alpine:latest`` from
``public.ecr.aws/docker/library/alpine:latest``, and sockerless reports that reference once the
container was started."""

from __future__ import annotations

PUBLIC_GALLERY_LIBRARY = "public.ecr.aws/docker/library/"
DEFAULT_TAG = "latest"


def public_gallery_reference(ref: str) -> str:
    """``name[:tag]`` (a Docker Hub library image) as ``public.ecr.aws/docker/library/name:tag``
    (tag ``latest`` when none); any other reference (a registry, a namespace, a digest) as is."""
    name, _, tag = ref.partition(":")
    if not name or "/" in ref or "@" in ref or name == "sha256":
        return ref
    return f"{PUBLIC_GALLERY_LIBRARY}{name}:{tag or DEFAULT_TAG}"
