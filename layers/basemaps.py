"""Basemaps the user can choose under the overlays: none, OpenStreetMap, CARTO, AMap, Tianditu.

No streamlit here. Tiles are fetched by the browser, not by this module. AMap (Gaode) tiles are
drawn in GCJ-02, so overlays drawn on them must first be shifted with
:func:`geo.data.shift.shift_geometries_to_gcj02` (``Basemap.needs_gcj02``); the others are WGS-84
web Mercator. Tianditu needs a key, read from ``TIANDITU_KEY`` (environment first, then the
streamlit secrets) and never stored in this code.

Output encoding: the labels and attributions are this module's constants (attributions are HTML
for Leaflet's attribution control); the Tianditu key is URL-quoted into the tile URL, which
folium passes to JavaScript as JSON.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote

import folium

__all__ = [
    "BASEMAPS",
    "KEY_ENV_VAR",
    "Basemap",
    "MissingKeyError",
    "add_basemap",
    "tianditu_key",
]

#: Environment variable (and secrets entry) holding the Tianditu key.
KEY_ENV_VAR = "TIANDITU_KEY"
#: Placeholder in :attr:`Basemap.url_templates` replaced by the (URL-quoted) key.
KEY_PLACEHOLDER = "{tk}"
#: Deepest zoom the tile layers are asked for.
MAX_ZOOM = 18

_TIANDITU_URL = ("https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
                 "&VERSION=1.0.0&LAYER=vec&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
                 "&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=" + KEY_PLACEHOLDER)
#: Tianditu's annotation (labels) layer: the same URL with ``vec`` → ``cva``.
_TIANDITU_LABELS_URL = _TIANDITU_URL.replace("vec_w", "cva_w").replace("LAYER=vec", "LAYER=cva")


class MissingKeyError(ValueError):
    """A basemap that needs a key was asked for without one."""


@dataclass(frozen=True)
class Basemap:
    """One choosable basemap.

    Attributes
    ----------
    key
        Registry key, e.g. ``"amap"``.
    label_zh, label_en
        Names shown to the user.
    url_templates
        Leaflet tile URL templates (``{s}``, ``{x}``, ``{y}``, ``{z}``), drawn in order; empty
        for no tiles. ``{tk}`` stands for the key when :attr:`needs_key`.
    attribution
        Attribution text shown on the map.
    subdomains
        Values of ``{s}``, one a character; empty when the URLs have no ``{s}``.
    needs_gcj02
        True when the tiles are drawn in GCJ-02, so WGS-84 overlays must be shifted first.
    needs_key
        True when the URLs need a key (``{tk}``).
    note_zh, note_en
        A line to show under the basemap choice; may be empty.
    """

    key: str
    label_zh: str
    label_en: str
    url_templates: tuple[str, ...]
    attribution: str
    subdomains: str
    needs_gcj02: bool
    needs_key: bool
    note_zh: str
    note_en: str


BASEMAPS: dict[str, Basemap] = {
    "none": Basemap(
        key="none", label_zh="无底图", label_en="No basemap", url_templates=(),
        attribution="", subdomains="", needs_gcj02=False, needs_key=False,
        note_zh="纯色背景，无需联网", note_en="Plain background; works offline"),
    "osm": Basemap(
        key="osm", label_zh="OpenStreetMap", label_en="OpenStreetMap",
        url_templates=("https://tile.openstreetmap.org/{z}/{x}/{y}.png",),
        attribution="© OpenStreetMap contributors", subdomains="",
        needs_gcj02=False, needs_key=False, note_zh="", note_en=""),
    "carto": Basemap(
        key="carto", label_zh="CARTO 浅色", label_en="CARTO Positron",
        url_templates=("https://{s}.basemaps.cartocdn.com/light_all/{z}/{x}/{y}{r}.png",),
        attribution="© OpenStreetMap contributors © CARTO", subdomains="abcd",
        needs_gcj02=False, needs_key=False, note_zh="", note_en=""),
    "amap": Basemap(
        key="amap", label_zh="高德地图", label_en="AMap (Gaode)",
        url_templates=("https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1"
                       "&style=8&x={x}&y={y}&z={z}",),
        attribution="© 高德地图 AutoNavi", subdomains="1234", needs_gcj02=True, needs_key=False,
        note_zh="高德底图为GCJ-02坐标，叠加图层已相应偏移",
        note_en="AMap tiles use GCJ-02; the overlays are shifted to line up with them"),
    "tianditu": Basemap(
        key="tianditu", label_zh="天地图", label_en="Tianditu",
        url_templates=(_TIANDITU_URL, _TIANDITU_LABELS_URL),
        attribution="© 天地图 Tianditu", subdomains="01234567", needs_gcj02=False,
        needs_key=True,
        note_zh=f"需要天地图密钥（{KEY_ENV_VAR}）",
        note_en=f"Needs a Tianditu key ({KEY_ENV_VAR})"),
}


def tianditu_key(env: Mapping[str, str] | None = None,
                 secrets: Mapping[str, str] | None = None) -> str | None:
    """Return the Tianditu key: ``TIANDITU_KEY`` from ``env``, else from ``secrets``, else None.

    Parameters
    ----------
    env
        Environment variables; :data:`os.environ` when None.
    secrets
        A secrets mapping, e.g. ``st.secrets`` (``.streamlit/secrets.toml``); skipped when None.

    Returns
    -------
    str or None
        The first non-blank value found, stripped; None when neither has one.
    """
    for source in (os.environ if env is None else env, secrets):
        if source is None:
            continue
        value = source.get(KEY_ENV_VAR)
        if value is not None and str(value).strip():
            return str(value).strip()
    return None


def _urls(basemap: Basemap, key: str | None) -> list[str]:
    """Return the basemap's tile URLs with the key filled in where needed."""
    if not basemap.needs_key:
        return list(basemap.url_templates)
    if not key:
        raise MissingKeyError(
            f"basemap {basemap.key!r} needs a key: set {KEY_ENV_VAR} in the environment or in "
            f".streamlit/secrets.toml")
    return [url.replace(KEY_PLACEHOLDER, quote(key, safe="")) for url in basemap.url_templates]


def add_basemap(fmap: folium.Map, key: str, *, tianditu_key: str | None = None) -> None:
    """Add the tile layer(s) of basemap ``key`` to ``fmap``, beneath its overlays.

    Parameters
    ----------
    fmap
        The map, normally made with ``tiles=None``. Tiles are web Mercator; AMap's are GCJ-02
        (see :attr:`Basemap.needs_gcj02`), the others WGS-84.
    key
        A key of :data:`BASEMAPS`. ``"none"`` adds nothing.
    tianditu_key
        The Tianditu key (see :func:`tianditu_key`); needed only for ``"tianditu"``.

    Raises
    ------
    ValueError
        When ``key`` is not a key of :data:`BASEMAPS`.
    MissingKeyError
        When the basemap needs a key and none was given.
    """
    if key not in BASEMAPS:
        raise ValueError(f"unknown basemap {key!r}; expected one of {', '.join(BASEMAPS)}")
    basemap = BASEMAPS[key]
    for index, url in enumerate(_urls(basemap, tianditu_key)):
        options = {"subdomains": basemap.subdomains} if basemap.subdomains else {}
        name = basemap.label_en if index == 0 else f"{basemap.label_en} ({index + 1})"
        folium.TileLayer(tiles=url, attr=basemap.attribution, name=name, control=False,
                         max_zoom=MAX_ZOOM, **options).add_to(fmap)
