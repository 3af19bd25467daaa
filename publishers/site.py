"""The published-datasets page, ``OUTPUT/index.html``: every dataset with its versions, download links, record
counts, change summaries and its latest validation summary.

One static, self-contained page (inline CSS, no script, no external asset), rendered with Jinja2 (autoescape) from
:func:`mobilise.publishers.feeds.collect_site`; its links are relative to ``OUTPUT/``, so it works served by any
web server under any path and opened from disk. Written by :func:`mobilise.publishers.feeds.refresh_site`.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from mobilise.publishers.feeds import DCAT, INVENTORY, RSS, change_text

if TYPE_CHECKING:
    from mobilise.publishers.feeds import SiteDataset

TEMPLATES = Path(__file__).parent / "templates"


def _size(count: int) -> str:
    """Bytes for people: 987 B, 31.8 kB, 12.4 MB (powers of 1000)."""
    value = float(count)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{count} B"  # pragma: no cover


@lru_cache(maxsize=1)
def _environment():
    import jinja2

    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                                     trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    environment.filters["number"] = lambda n: f"{n:,}"
    environment.filters["size"] = _size
    environment.filters["href"] = quote  # a path relative to OUTPUT/ as a URL path
    environment.filters["changes"] = change_text
    return environment


def render_index(datasets: list["SiteDataset"]) -> str:
    """The page for `datasets` (as collect_site gives them: by short name, versions newest first)."""
    return _environment().get_template("site.html.j2").render(
        datasets=datasets, rss=RSS, dcat=DCAT, inventory=INVENTORY,
        updated=max((d.latest.published for d in datasets), default=None))
