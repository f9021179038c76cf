"""What an assignment description links to, read the way Canvas's rich content editor
writes it (decisions §6).

- A file is an attachment when it is linked (``<a href>`` or ``data-api-endpoint``) on
  the student's own Canvas host: ``/courses/:id/files/:id`` (with ``?wrap=1``,
  ``/download?download_frd=1``, ``?verifier=``...), ``/files/:id``,
  ``/api/v1/[courses/:id/]files/:id``, or the older ``/courses/:id/files?preview=:id``.
  A link on any other host is never looked up on Canvas, whatever its path says.
- An image (``<img>``) is not an attachment, even when the editor inserted it from the
  course files (``data-api-returntype="File"``): its alt text, or an equation's
  formula, is kept in the description's text instead (``html_to_text``).
- Embedded content (``<iframe>``, ``<video>``, ``<audio>``, ``<object>``, ``<embed>``,
  and Canvas media comments) cannot be read: each is listed so it becomes a warning
  naming its address.
- A file link's name is the one the editor gave it: its ``title`` (the file's name, as
  the RCE writes it), else the link's text; change messages name the file by it.
- A link to a Page of the same course (``/courses/:course_id/pages/:url``, or
  ``data-api-returntype="Page"``) is a source to fetch with the Pages API.

The editor's markup is in Canvas's ``app/helpers/application_helper.rb``/``api_user_content``
(absolute links on the request's host) and the RCE's ``instructure_file_link`` links.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qs, unquote, urlsplit

_FILE_PATH = re.compile(r"^(?:/api/v1)?(?:/(?:courses|groups|users)/\d+)?/files/(\d+)(?:/.*)?$")
_OLD_PREVIEW_PATH = re.compile(r"^/courses/\d+/files/?$")
_PAGE_PATH = re.compile(r"^(?:/api/v1)?/courses/(\d+)/(?:pages|wiki)/([^/?#]+)/?$")
_EMBEDDED_TAGS = frozenset({"iframe", "video", "audio", "object", "embed", "source"})
_MEDIA_COMMENT_CLASS = "instructure_inline_media_comment"
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass
class DescriptionLinks:
    """The description's Canvas files, same-course Pages and embedded content, each in
    document order without duplicates."""

    file_ids: list[str] = field(default_factory=list)
    file_names: dict[str, str] = field(default_factory=dict)  # the first link's name
    page_urls: list[str] = field(default_factory=list)
    embeds: list[str] = field(default_factory=list)

    def add(self, items: list[str], value: str) -> None:
        if value not in items:
            items.append(value)


def _origin(scheme: str, host: str, port: int | None) -> tuple[str, str, int]:
    return scheme, host.lower(), port or _DEFAULT_PORTS.get(scheme, 0)


class _LinkReader(HTMLParser):
    def __init__(self, canvas_base_url: str, course_id: str) -> None:
        super().__init__(convert_charrefs=True)
        base = urlsplit(canvas_base_url)
        self._canvas = _origin(base.scheme, base.hostname or "", base.port)
        self._course_id = course_id
        self.links = DescriptionLinks()
        self._naming: tuple[str, list[str]] | None = None  # an open file link and its text

    def _canvas_path(self, url: str) -> tuple[str, str] | None:
        """``(path, query)`` of ``url`` when it points at the student's Canvas, else None."""
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError:  # "http://[oops": a broken link points nowhere
            return None
        if parts.scheme not in ("", "http", "https"):
            return None
        if parts.netloc:
            scheme = parts.scheme or self._canvas[0]  # "//host/path" keeps the page's scheme
            if _origin(scheme, parts.hostname or "", port) != self._canvas:
                return None
        return parts.path, parts.query

    def _file_id(self, url: str) -> str | None:
        where = self._canvas_path(url)
        if where is None:
            return None
        path, query = where
        match = _FILE_PATH.match(path)
        if match:
            return match.group(1)
        if _OLD_PREVIEW_PATH.match(path):
            preview = parse_qs(query).get("preview", [])
            if preview and preview[0].isdigit():
                return preview[0]
        return None

    def _page_url(self, url: str) -> str | None:
        where = self._canvas_path(url)
        match = _PAGE_PATH.match(where[0]) if where else None
        if match is None or match.group(1) != self._course_id:
            return None  # another course's page is that course's business
        return unquote(match.group(2))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag in _EMBEDDED_TAGS:
            address = values.get("src") or values.get("data") or ""
            if address.strip():
                self.links.add(self.links.embeds, address.strip())
            return
        if tag != "a":
            return  # images are content, not attachments
        if _MEDIA_COMMENT_CLASS in values.get("class", "").split():
            media = values.get("id") or values.get("data-media_comment_id") or "a media comment"
            self.links.add(self.links.embeds, media)
            return
        for url in (values.get("data-api-endpoint", ""), values.get("href", "")):
            if not url:
                continue
            file_id = self._file_id(url)
            if file_id is not None:
                self.links.add(self.links.file_ids, file_id)
                title = values.get("title", "").strip()
                if title:
                    self.links.file_names.setdefault(file_id, title)
                else:
                    self._naming = (file_id, [])
                return
            page = self._page_url(url)
            if page is not None:
                self.links.add(self.links.page_urls, page)
                return

    def handle_data(self, data: str) -> None:
        if self._naming is not None:
            self._naming[1].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag != "a" or self._naming is None:
            return
        file_id, text = self._naming
        self._naming = None
        name = " ".join("".join(text).split())
        if name:
            self.links.file_names.setdefault(file_id, name)


def read_description(html: str, canvas_base_url: str, course_id: str) -> DescriptionLinks:
    """The files, Pages and embedded content an assignment description links to."""
    reader = _LinkReader(canvas_base_url, course_id)
    reader.feed(html or "")
    reader.close()
    return reader.links


__all__ = ["DescriptionLinks", "read_description"]
