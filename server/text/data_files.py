"""Data files per language (``<folder>/<language>.yaml``): read and checked against their
shape in one place, so a broken file names itself and what is wrong with it.

Template folders, date words, number formats, AI-policy phrases and wording all read this
way; a defect in one is a defect in the data, like a bug in code, raised as the caller's
own error class.
"""

from __future__ import annotations

from importlib.resources.abc import Traversable
from typing import TypeVar

import yaml
from pydantic import TypeAdapter, ValidationError

_T = TypeVar("_T")


def read_data_file(path: Traversable, shape: TypeAdapter[_T], error: type[Exception]) -> _T:
    """The YAML file at ``path`` validated as ``shape``; ``error`` (with the path and the
    reason) when it cannot be read, parsed or validated."""
    try:
        return shape.validate_python(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise error(f"{path}: {exc}") from exc


def languages_in(folder: Traversable) -> frozenset[str]:
    """The languages a folder has a ``<language>.yaml`` for."""
    return frozenset(
        entry.name.removesuffix(".yaml")
        for entry in folder.iterdir()
        if entry.name.endswith(".yaml")
    )


__all__ = ["languages_in", "read_data_file"]
