"""For operators and orchestrators: liveness, readiness and Prometheus metrics.

None of these needs a token: keep them on the internal network (block them at the
public proxy).
"""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from rest.deps import RuntimeDep
from rest.errors import error_responses
from server.operations import service as operations
from server.operations.service import Readiness

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is alive (checks nothing else; see ``/readyz``)."""
    return {"status": "ok"}


@router.get("/readyz", response_model=Readiness, responses=error_responses(503))
async def readyz(rt: RuntimeDep) -> Readiness:
    """Ready to serve: the database answers, Redis answers when configured, and every
    migration is applied (PostgreSQL). 503 ``not_ready`` with each check's result if not."""
    return await operations.check_readiness(rt)


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
async def metrics(rt: RuntimeDep) -> Response:
    """This process's metrics in the Prometheus text format."""
    await operations.refresh_queue_depth(rt)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
