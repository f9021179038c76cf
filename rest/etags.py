"""Conditional reads: ``ETag`` on the answer, ``If-None-Match`` → ``304 Not Modified``.

A client that keeps the snapshot or the plan it last read sends its tag back; while
nothing changed it gets an empty 304 instead of the body again.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Header, Response

from server.kernel.representations import Representation

IfNoneMatch = Annotated[
    str | None,
    Header(
        alias="If-None-Match",
        description="The ETag of the copy the client has: 304 without a body while it is "
        "still current",
    ),
]
ETAG_HEADER = {
    "ETag": {
        "description": "Strong entity tag of this answer; send it back in If-None-Match",
        "schema": {"type": "string"},
    }
}


def conditional_responses(description: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI for a conditional read: the 200's ``ETag`` header and the 304."""
    return {
        200: {"description": description, "headers": ETAG_HEADER},
        304: {
            "description": "Not Modified: the If-None-Match tag is current",
            "headers": ETAG_HEADER,
        },
    }


def _matches(if_none_match: str, etag: str) -> bool:
    # RFC 9110 §13.1.2: "*" or a list of tags, compared weakly (a W/ prefix is ignored).
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in tags or etag in tags


def conditional(representation: Representation, if_none_match: str | None) -> Response:
    headers = {"ETag": representation.etag, "Cache-Control": "private, no-cache"}
    if if_none_match is not None and _matches(if_none_match, representation.etag):
        return Response(status_code=304, headers=headers)
    return Response(representation.body, media_type="application/json", headers=headers)
