"""``mobilise serve-archives``: the publication directory over HTTP, as harvesters expect an IPT to answer.

Starlette's StaticFiles (FileResponse) served by uvicorn, so HTTP is handled by well-kept libraries:
``Last-Modified`` and ``ETag`` on every file, ``If-Modified-Since`` and ``If-None-Match`` answered 304 (GBIF's
crawler asks so, and re-indexes only when an archive changed), ``HEAD``, byte ranges (206, ``Accept-Ranges``;
``If-Range``), GET and HEAD only (405 otherwise). What this module adds:

- content types by file name, the same on every machine (Python's mimetypes reads the host's tables):
  ``application/zip``, ``application/xml`` for EML, ``application/rss+xml`` for ``rss.xml``, ``application/json``,
  ``text/turtle`` for ``dcat.ttl``, ``text/html``, ``text/csv``; ``charset=utf-8`` on the text ones;
- nothing hidden is served: a path with a segment starting with ``.`` (``.state/``, ``.lock``, ``.work/``, the
  ``.<name>.partial`` files of a write in progress) or ending in ``.partial`` is 404, as is a folder (no listing);
  the site root answers ``index.html``;
- a dataset's current copies (``<shortname>/dwca.zip``, ``eml.xml`` and ``dwc-dp.zip``, its Darwin Core Data
  Package) are answered from the version its log
  (``publications.json``, the commit point of a publication) names as the latest: the same file once the run has
  swapped them (they are hard links), and the committed version, not the one before it, should a run be killed
  between its commit and the swap (the next run repairs the files themselves).
"""
from __future__ import annotations

import os
import socket
from pathlib import Path, PurePosixPath

from starlette.exceptions import HTTPException
from starlette.responses import FileResponse, Response
from starlette.staticfiles import NotModifiedResponse, StaticFiles
from starlette.datastructures import Headers
from starlette.types import Scope

from mobilise.publishers.feeds import DCAT, INDEX, RSS
from mobilise.publishers.publication import CURRENT_ARCHIVE, CURRENT_EML, CURRENT_PACKAGE, LOG_NAME, PublicationLog

UTF8 = "; charset=utf-8"
CONTENT_TYPES = {  # suffix -> Content-Type
    ".zip": "application/zip",
    ".xml": "application/xml" + UTF8,
    ".json": "application/json",
    ".ttl": "text/turtle" + UTF8,
    ".html": "text/html" + UTF8,
    ".csv": "text/csv" + UTF8,
    ".txt": "text/plain" + UTF8,
}
NAMED_CONTENT_TYPES = {RSS: "application/rss+xml" + UTF8, DCAT: "text/turtle" + UTF8}
DEFAULT_HOST = "127.0.0.1"


def content_type(path: str | os.PathLike) -> str:
    """The Content-Type this server sends for a file name; application/octet-stream for an unknown suffix."""
    name = PurePosixPath(os.fspath(path)).name
    if name in NAMED_CONTENT_TYPES:
        return NAMED_CONTENT_TYPES[name]
    return CONTENT_TYPES.get(PurePosixPath(name).suffix.lower(), "application/octet-stream")


def hidden(path: str) -> bool:
    """Whether a request path (relative to the served folder, any separator) names something never served."""
    parts = [p for p in path.replace("\\", "/").split("/") if p not in ("", ".")]
    return any(p.startswith(".") or p.endswith(".partial") for p in parts)


class PublicationFiles(StaticFiles):
    """StaticFiles for a publication directory: hidden files refused, content types fixed, the root's index
    page served, no directory listing (StaticFiles never lists)."""

    def __init__(self, directory: Path):
        super().__init__(directory=str(directory), html=False, check_dir=True, follow_symlink=False)

    def get_path(self, scope: Scope) -> str:
        path = super().get_path(scope)
        return INDEX if path in (".", "") else self.committed(path)

    def committed(self, path: str) -> str:
        """`path`, or for a dataset's current archive, EML or Data Package the file of the version its log names as
        latest (a latest version without a package: the path as it is, which a finished run has removed)."""
        parts = PurePosixPath(path).parts
        if len(parts) != 2 or parts[1] not in (CURRENT_ARCHIVE, CURRENT_EML, CURRENT_PACKAGE) or hidden(path):
            return path
        folder = Path(self.directory) / parts[0]
        if not (folder / LOG_NAME).is_file():
            return path
        try:
            latest = PublicationLog(folder).latest()
        except (OSError, ValueError, TypeError, KeyError):  # a damaged log: serve the files as they are
            return path
        name = None if latest is None else {CURRENT_ARCHIVE: latest.archive, CURRENT_EML: latest.eml,
                                            CURRENT_PACKAGE: (latest.dwc_dp or {}).get("file")}[parts[1]]
        return f"{parts[0]}/{name}" if name and (folder / name).is_file() else path

    async def get_response(self, path: str, scope: Scope) -> Response:
        if hidden(path):
            raise HTTPException(status_code=404)
        return await super().get_response(path, scope)

    def file_response(self, full_path, stat_result: os.stat_result, scope: Scope, status_code: int = 200
                      ) -> Response:
        response = FileResponse(full_path, status_code=status_code, stat_result=stat_result,
                                media_type=content_type(full_path))
        if self.is_not_modified(response.headers, Headers(scope=scope)):
            return NotModifiedResponse(response.headers)
        return response


def create_app(directory: Path):
    """The ASGI application serving `directory` (a Starlette app: 404 and 405 answered as plain text)."""
    from starlette.applications import Starlette
    from starlette.routing import Mount

    return Starlette(routes=[Mount("/", app=PublicationFiles(Path(directory)))])


def bind(host: str = DEFAULT_HOST, port: int = 0) -> socket.socket:
    """A listening TCP socket on host:port (port 0: a free one, see ``getsockname()``); IPv6 hosts too."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def server(directory: Path, host: str = DEFAULT_HOST, port: int = 8000, log_level: str = "info"):
    """A uvicorn Server for `directory` (not started: ``.run()``, or ``.run(sockets=[bind(...)])``)."""
    import uvicorn

    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"no such directory: {directory}")
    config = uvicorn.Config(create_app(directory), host=host, port=port, log_level=log_level, access_log=True,
                            server_header=False, proxy_headers=False, lifespan="off")
    return uvicorn.Server(config)
