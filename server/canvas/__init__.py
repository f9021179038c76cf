"""Canvas LMS access: the HTTP client, base-URL validation and a local simulator."""

from server.canvas.client import CanvasClient, CanvasError
from server.canvas.description import DescriptionLinks, read_description
from server.canvas.urls import check_redirect_target, validate_canvas_base_url

__all__ = [
    "CanvasClient",
    "CanvasError",
    "DescriptionLinks",
    "check_redirect_target",
    "read_description",
    "validate_canvas_base_url",
]
