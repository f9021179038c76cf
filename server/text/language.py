"""The language a plan and its feedback are written in: a request's ``?language=``, else
the ``PLAN_LANGUAGE`` setting, else the student's Canvas locale, else English.

Canvas sends a user's ``locale`` (their own choice, null when they made none) and, on
their own profile, ``effective_locale`` (what Canvas shows them: their choice, else the
account's or course's default). Both are Canvas locale codes such as ``es``, ``en-GB``,
``pt-BR`` or a custom ``en-AU-x-unimelb``; plans use the base language (``es``, ``en``).
"""

from __future__ import annotations

import re
from typing import Any

DEFAULT_LANGUAGE = "en"
_LOCALE_RE = re.compile(r"^([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]{1,8})*$")


def language_code(locale: str) -> str | None:
    """The base language of a locale code ("es-MX" -> "es"), or None if it is not one."""
    match = _LOCALE_RE.match(locale.strip())
    return match.group(1).lower() if match else None


def canvas_language(user: dict[str, Any]) -> str | None:
    """The language Canvas shows this user: ``effective_locale``, else ``locale``."""
    for key in ("effective_locale", "locale"):
        value = user.get(key)
        if isinstance(value, str) and (code := language_code(value)):
            return code
    return None


def choose_language(
    requested: str | None, setting: str | None, canvas_user: dict[str, Any] | None
) -> str:
    for candidate in (requested, setting):
        if candidate and (code := language_code(candidate)):
            return code
    return (canvas_language(canvas_user) if canvas_user else None) or DEFAULT_LANGUAGE


__all__ = ["DEFAULT_LANGUAGE", "canvas_language", "choose_language", "language_code"]
