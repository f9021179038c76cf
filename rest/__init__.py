"""Thin FastAPI routers for the REST + SSE contract, and the HTTP error mapping."""
