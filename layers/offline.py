"""Maps that draw with no network: Leaflet inlined from an installed package, no CDN links.

Leaflet's JS and CSS come from the ``django-js-lib-leaflet`` wheel (plain static files; Django is
not needed to read them). folium's other default assets (jQuery, Bootstrap, Font Awesome,
awesome-markers) serve only folium features this project does not use, so they are left out.
"""

from __future__ import annotations

import base64
import re
from functools import cache
from importlib import resources

import folium

__all__ = ["UnknownAssetError", "standalone_html"]

_LEAFLET_PACKAGE = "js_lib_leaflet"
_LEAFLET_DIR = "static/js_lib_leaflet"
#: CDN assets of folium's defaults that this project's layers do not need.
_UNUSED_ASSETS = ("jquery", "bootstrap", "awesome-markers", "fontawesome", "leaflet.awesome")
_SCRIPT = re.compile(r'<script src="(https?://[^"]+)"></script>')
_STYLESHEET = re.compile(r'<link rel="stylesheet" href="(https?://[^"]+)"\s*/>')


class UnknownAssetError(RuntimeError):
    """A map layer needs a web asset that is not available offline."""


@cache
def _leaflet_file(name: str) -> bytes:
    return (resources.files(_LEAFLET_PACKAGE) / _LEAFLET_DIR / name).read_bytes()


@cache
def _leaflet_css() -> str:
    """leaflet.css with its images inlined as data URIs."""
    css = _leaflet_file("leaflet.css").decode("utf-8")

    def inline(match: re.Match) -> str:
        data = base64.b64encode(_leaflet_file(match.group(1))).decode("ascii")
        return f"url(data:image/png;base64,{data})"

    return re.sub(r"url\((images/[\w.-]+\.png)\)", inline, css)


def _inline_asset(url: str, *, kind: str) -> str:
    """The tag replacing a CDN asset: Leaflet inlined, folium's unused defaults dropped."""
    name = url.rsplit("/", 1)[-1]
    if "leaflet@" in url and name in ("leaflet.js", "leaflet.css"):
        if kind == "script":
            return "<script>" + _leaflet_file("leaflet.js").decode("utf-8") + "</script>"
        return "<style>" + _leaflet_css() + "</style>"
    if any(part in url.lower() for part in _UNUSED_ASSETS):
        return ""
    raise UnknownAssetError(f"the map needs {url}, which is not available offline")


def standalone_html(fmap: folium.Map) -> str:
    """The map as one HTML document that loads nothing from the network except the basemap tiles
    the user chose (without tiles it draws on a plain background).

    Raises
    ------
    UnknownAssetError
        When a layer needs a CDN asset other than Leaflet (add it here before using it).
    """
    html = fmap.get_root().render()
    html = _SCRIPT.sub(lambda m: _inline_asset(m.group(1), kind="script"), html)
    return _STYLESHEET.sub(lambda m: _inline_asset(m.group(1), kind="style"), html)
