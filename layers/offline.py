"""Maps that draw with no network: Leaflet and its plugins inlined from installed packages.

The JS and CSS come from XStatic wheels (``xstatic-leaflet``, ``xstatic-leaflet-markercluster``:
plain static files). folium's other default assets (jQuery, Bootstrap, Font Awesome,
awesome-markers) serve only folium features this project does not use, so they are left out.

Output encoding: the assets are inlined after folium has rendered the map, so their text is
never read as a template; the map's user text was encoded by its layers (:mod:`layers.encoding`)
and holds no raw ``<``, so it cannot forge the ``<script src>`` and stylesheet tags that
:func:`standalone_html` replaces.
"""

from __future__ import annotations

import base64
import re
from functools import cache
from pathlib import Path

import folium
import xstatic.pkg.leaflet as xs_leaflet
import xstatic.pkg.leaflet_markercluster as xs_markercluster

__all__ = ["LOCAL_ASSETS", "UnknownAssetError", "standalone_html", "with_local_assets"]

#: The file name at the end of a CDN URL → the installed file that replaces it.
LOCAL_ASSETS = {
    "leaflet.js": Path(xs_leaflet.BASE_DIR) / "leaflet.js",
    "leaflet.css": Path(xs_leaflet.BASE_DIR) / "leaflet.css",
    "leaflet.markercluster.js": Path(xs_markercluster.BASE_DIR) / "leaflet.markercluster.js",
    "MarkerCluster.css": Path(xs_markercluster.BASE_DIR) / "MarkerCluster.css",
    "MarkerCluster.Default.css": Path(xs_markercluster.BASE_DIR) / "MarkerCluster.Default.css",
}
#: CDN assets of folium's defaults that this project's layers do not need.
_UNUSED_ASSETS = ("jquery", "bootstrap", "awesome-markers", "fontawesome", "leaflet.awesome")
_SCRIPT = re.compile(r'<script src="(https?://[^"]+)"></script>')
_STYLESHEET = re.compile(r'<link rel="stylesheet" href="(https?://[^"]+)"\s*/>')
_CSS_IMAGE = re.compile(r"url\((images/[\w.-]+\.png)\)")


class UnknownAssetError(RuntimeError):
    """A map layer needs a web asset that is not available offline."""


@cache
def _asset_text(name: str) -> str:
    """An asset's text; a stylesheet's images are inlined as data URIs."""
    path = LOCAL_ASSETS[name]
    text = path.read_text(encoding="utf-8")
    if name.endswith(".css"):
        def inline(match: re.Match) -> str:
            data = base64.b64encode((path.parent / match.group(1)).read_bytes()).decode("ascii")
            return f"url(data:image/png;base64,{data})"

        text = _CSS_IMAGE.sub(inline, text)
    return text


def _inline_asset(url: str, *, kind: str) -> str:
    """The tag replacing a CDN asset: a local one inlined, folium's unused defaults dropped."""
    name = url.rsplit("/", 1)[-1]
    if name in LOCAL_ASSETS:
        tag = "script" if kind == "script" else "style"
        return f"<{tag}>{_asset_text(name)}</{tag}>"
    if any(part in url.lower() for part in _UNUSED_ASSETS):
        return ""
    raise UnknownAssetError(f"the map needs {url}, which is not available offline")


def standalone_html(fmap: folium.Map) -> str:
    """The map as one HTML document that loads nothing from the network except the basemap tiles
    the user chose (without tiles it draws on a plain background).

    Raises
    ------
    UnknownAssetError
        When a layer needs a CDN asset not in :data:`LOCAL_ASSETS` (add it there first).
    """
    html = fmap.get_root().render()
    html = _SCRIPT.sub(lambda m: _inline_asset(m.group(1), kind="script"), html)
    return _STYLESHEET.sub(lambda m: _inline_asset(m.group(1), kind="style"), html)


def _data_uri(name: str) -> str:
    mime = "text/css" if name.endswith(".css") else "text/javascript"
    data = base64.b64encode(_asset_text(name).encode("utf-8")).decode("ascii")
    return f"data:{mime};base64,{data}"


def _local_links(links: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """(name, url) asset links with local ones as data URIs and folium's unused ones dropped."""
    kept = []
    for key, url in links:
        name = url.rsplit("/", 1)[-1]
        if name in LOCAL_ASSETS:
            kept.append((key, _data_uri(name)))
        elif not any(part in url.lower() for part in _UNUSED_ASSETS):
            raise UnknownAssetError(f"the map needs {url}, which is not available offline")
    return kept


def with_local_assets(fmap: folium.Map) -> folium.Map:
    """The same map whose elements link their JS/CSS as data URIs instead of CDN URLs, for
    components that load the links themselves (streamlit-folium). Changes ``fmap`` in place.

    Raises
    ------
    UnknownAssetError
        When an element needs a CDN asset not in :data:`LOCAL_ASSETS`.
    """
    def walk(element: object) -> None:
        for attribute in ("default_js", "default_css"):
            links = getattr(element, attribute, None)
            if links:
                setattr(element, attribute, _local_links(list(links)))
        for child in getattr(element, "_children", {}).values():
            walk(child)

    walk(fmap)
    return fmap
