"""Tortoise models (``models.db``) and the pydantic models of the stable JSON contracts."""
