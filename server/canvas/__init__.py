"""Canvas LMS access: the HTTP client, base-URL validation and a local simulator."""

from server.canvas.client import CanvasClient, CanvasError, linked_file_ids
from server.canvas.urls import check_redirect_target, validate_canvas_base_url

__all__ = [
    "CanvasClient",
    "CanvasError",
    "check_redirect_target",
    "linked_file_ids",
    "validate_canvas_base_url",
]
