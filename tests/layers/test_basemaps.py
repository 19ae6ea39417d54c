from __future__ import annotations

import json
import re

import folium
import pytest

from layers.basemaps import BASEMAPS, MissingKeyError, add_basemap, tianditu_key

#: ``L.tileLayer("url", {options})`` as folium renders it.
_TILE_LAYER = re.compile(r'L\.tileLayer\(\s*("(?:[^"\\]|\\.)*")\s*,\s*\{(.*?)\}\s*\)', re.S)
_ATTRIBUTION = re.compile(r'"attribution":\s*("(?:[^"\\]|\\.)*")')


def _tile_layers(key: str, **kwargs) -> list[tuple[str, str]]:
    """(url, attribution) of each tile layer on a tile-less map after ``add_basemap``."""
    fmap = folium.Map(tiles=None)
    add_basemap(fmap, key, **kwargs)
    html = fmap.get_root().render()
    layers = []
    for url, options in _TILE_LAYER.findall(html):
        attribution = _ATTRIBUTION.search(options)
        layers.append((json.loads(url), json.loads(attribution.group(1)) if attribution else ""))
    assert html.count("L.tileLayer") == len(layers)
    return layers


def test_registry_order_and_keys():
    assert list(BASEMAPS) == ["none", "osm", "carto", "amap", "tianditu"]
    assert all(key == basemap.key for key, basemap in BASEMAPS.items())


def test_none_adds_no_tiles():
    assert _tile_layers("none") == []


@pytest.mark.parametrize(("key", "url_part", "attribution"), [
    ("osm", "tile.openstreetmap.org/{z}/{x}/{y}.png", "© OpenStreetMap contributors"),
    ("carto", "basemaps.cartocdn.com/light_all/", "© OpenStreetMap contributors © CARTO"),
    ("amap", "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
             "&x={x}&y={y}&z={z}", "© 高德地图 AutoNavi"),
])
def test_keyless_basemaps_add_one_tile_layer(key, url_part, attribution):
    [(url, attr)] = _tile_layers(key)
    assert url_part in url
    assert attr == attribution


def test_tianditu_with_key_adds_vector_and_annotation_layers():
    layers = _tile_layers("tianditu", tianditu_key="abc123")
    assert len(layers) == 2
    (vec, vec_attr), (cva, _) = layers
    assert all("tk=abc123" in url for url, _ in layers)
    assert "tianditu.gov.cn/vec_w/wmts" in vec and "LAYER=vec" in vec
    assert "tianditu.gov.cn/cva_w/wmts" in cva and "LAYER=cva" in cva
    assert vec_attr == "© 天地图 Tianditu"


def test_tianditu_without_key_raises():
    with pytest.raises(MissingKeyError, match="TIANDITU_KEY"):
        add_basemap(folium.Map(tiles=None), "tianditu")
    assert issubclass(MissingKeyError, ValueError)


def test_unknown_basemap_raises():
    with pytest.raises(ValueError, match="'bing'"):
        add_basemap(folium.Map(tiles=None), "bing")


def test_no_key_is_written_into_the_registry():
    for basemap in BASEMAPS.values():
        for url in basemap.url_templates:
            assert "tk=" not in url or url.endswith("tk={tk}")


def test_tianditu_key_precedence():
    assert tianditu_key({"TIANDITU_KEY": "env"}, {"TIANDITU_KEY": "secret"}) == "env"
    assert tianditu_key({}, {"TIANDITU_KEY": "secret"}) == "secret"
    assert tianditu_key({}, {}) is None
    assert tianditu_key({}, None) is None


def test_tianditu_key_reads_os_environ_by_default(monkeypatch):
    monkeypatch.setenv("TIANDITU_KEY", "from-env")
    assert tianditu_key() == "from-env"
    monkeypatch.delenv("TIANDITU_KEY")
    assert tianditu_key(secrets={"TIANDITU_KEY": "s"}) == "s"


def test_only_amap_needs_gcj02():
    assert BASEMAPS["amap"].needs_gcj02 is True
    assert [key for key, b in BASEMAPS.items() if b.needs_gcj02] == ["amap"]
    assert "GCJ-02" in BASEMAPS["amap"].note_zh and "GCJ-02" in BASEMAPS["amap"].note_en
