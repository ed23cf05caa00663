"""Check every link inside the built site: the page exists, and so does its anchor.

Sphinx's ``linkcheck`` builder visits external addresses, which the
offline build cannot reach.  This extension checks only the site itself,
after an HTML build: every relative ``href`` or ``src`` must name a file
of the build, and a ``#fragment`` an ``id`` on that page.  Each broken link
is a warning, so ``sphinx-build -W`` fails on it.
"""

import html.parser
import posixpath
from pathlib import Path
from urllib.parse import unquote, urlsplit

from sphinx.util import logging

logger = logging.getLogger(__name__)


class _Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids, self.links = set(), []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("id", "name") if tag == "a" else ("id",):
            if attrs.get(key):
                self.ids.add(attrs[key])
        for key in ("href", "src"):
            if attrs.get(key) and not (tag == "link" and attrs.get("rel") == "preload"):
                self.links.append(attrs[key])


def broken_links(root):
    """``(page, link)`` for each internal link of the HTML tree ``root`` that leads nowhere."""
    root = Path(root)
    pages = {}
    for path in root.rglob("*.html"):
        page = _Page()
        page.feed(path.read_text(encoding="utf-8", errors="replace"))
        pages[path.relative_to(root).as_posix()] = page
    broken = []
    for name, page in sorted(pages.items()):
        if name.startswith("_static/"):  # the theme's templates, not pages
            continue
        for link in page.links:
            parts = urlsplit(link)
            if parts.scheme or link.startswith(("//", "mailto:", "javascript:")):
                continue
            target = name if not parts.path else posixpath.normpath(
                posixpath.join(posixpath.dirname(name), unquote(parts.path))
            )
            if target.endswith("/") or (root / target).is_dir():
                target = posixpath.join(target, "index.html")
            if target.startswith("../") or not (root / target).exists() or parts.fragment and target in pages and unquote(parts.fragment) not in pages[target].ids:
                broken.append((name, link))
    return broken


def _check(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    for page, link in broken_links(app.outdir):
        logger.warning(f"broken internal link in {page}: {link}")


def setup(app):
    app.connect("build-finished", _check)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
