"""Prometheus metrics of this process.

Each process counts its own: an API process serves them at ``/metrics``, a worker on
``WORKER_METRICS_PORT`` (see ``serve_worker_metrics``). Prometheus scrapes every process
and ``sum()`` adds them up, which is why there is no shared multiprocess registry.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, start_http_server

HTTP_REQUESTS = Counter(
    "canvas_workspace_http_requests",
    "HTTP requests answered, by method, route template and status",
    ["method", "route", "status"],
)
HTTP_REQUEST_SECONDS = Histogram(
    "canvas_workspace_http_request_duration_seconds",
    "Time until the response started, by method and route template (a stream counts "
    "until its first byte, not for its whole life)",
    ["method", "route"],
)
JOBS = Counter(
    "canvas_workspace_jobs",
    "Jobs that ended, by type and outcome (succeeded, failed, cancelled)",
    ["job_type", "outcome"],
)
STAGE_SECONDS = Histogram(
    "canvas_workspace_job_stage_duration_seconds",
    "Time a job spent in each pipeline stage",
    ["job_type", "stage"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)
QUEUE_DEPTH = Gauge(
    "canvas_workspace_queue_depth",
    "Jobs waiting to run, read when /metrics is scraped: the arq queue's length "
    '(queue="arq") with Redis, queued jobs in the database (queue="database") otherwise',
    ["queue"],
)
SSE_CONNECTIONS = Gauge("canvas_workspace_sse_connections", "Open SSE progress streams")
GRAPHQL_SUBSCRIPTIONS = Gauge(
    "canvas_workspace_graphql_subscriptions", "Active GraphQL subscriptions"
)
LLM_CALLS = Counter(
    "canvas_workspace_llm_calls", "Calls to the LLM, by model and outcome", ["model", "outcome"]
)
LLM_TOKENS = Counter(
    "canvas_workspace_llm_tokens",
    "Tokens the LLM reported, by model and kind (prompt, completion)",
    ["model", "kind"],
)
CANVAS_CALLS = Counter(
    "canvas_workspace_canvas_calls",
    "HTTP requests sent to Canvas (each retry counts), by outcome: ok or the error code",
    ["outcome"],
)


def record_llm_call(
    model: str, *, outcome: str = "ok", prompt_tokens: int = 0, completion_tokens: int = 0
) -> None:
    """Count one LLM call and the tokens its answer reported (``outcome``: ``ok`` or a short
    error code such as ``timeout``)."""
    LLM_CALLS.labels(model, outcome).inc()
    LLM_TOKENS.labels(model, "prompt").inc(prompt_tokens)
    LLM_TOKENS.labels(model, "completion").inc(completion_tokens)


def serve_worker_metrics(host: str, port: int) -> None:
    """Serve this process's metrics on ``http://host:port/metrics`` from a daemon thread
    (a worker has no web server of its own; the thread never touches the event loop)."""
    start_http_server(port, addr=host)


__all__ = [
    "CANVAS_CALLS",
    "GRAPHQL_SUBSCRIPTIONS",
    "HTTP_REQUESTS",
    "HTTP_REQUEST_SECONDS",
    "JOBS",
    "LLM_CALLS",
    "LLM_TOKENS",
    "QUEUE_DEPTH",
    "SSE_CONNECTIONS",
    "STAGE_SECONDS",
    "record_llm_call",
    "serve_worker_metrics",
]
