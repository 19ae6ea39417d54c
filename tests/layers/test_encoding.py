"""User text on the maps and in the HTML report: HTML-escaped where Leaflet inserts it as HTML,
JSON wherever it enters JavaScript, never inside a template literal."""

from __future__ import annotations

import json
import re

import folium
import geopandas as gpd
import h3
import pandas as pd
import pytest
import shapely

from geo.engine.hexgrid import cell_polygons
from layers.encoding import class_token, escaped_columns, html_text, js_value
from layers.explorer import MapView, explorer_map
from layers.folium_layers import (
    HtmlTooltip,
    add_legend,
    base_map,
    change_layer,
    facility_layer,
    street_layer,
)
from layers.offline import standalone_html
from tests.hostile import CORPUS

BOUNDS = (121.39, 31.19, 121.42, 31.22)
#: The template literals folium's own templates write (GeoJSON tooltips), with no user text.
FOLIUM_LITERAL = re.compile(r"\s*<tr>\s*<th>\$\{aliases\[i\]\}</th>\s*"
                            r"<td>\$\{handleObject\(layer\.feature\.properties\[v\]\)\}</td>\s*"
                            r"</tr>\s*")


def test_html_text_escapes_markup_quotes_and_backticks():
    assert html_text("\"'><img src=x onerror=alert(3)>") == (
        "&quot;&#x27;&gt;&lt;img src=x onerror=alert(3)&gt;")
    assert html_text("`${alert(1)}`") == "&#96;$&#123;alert(1)&#125;&#96;"
    assert html_text("{{7*7}}") == "&#123;&#123;7*7&#125;&#125;"
    assert html_text("a & b") == "a &amp; b"
    assert html_text(None) == "" and html_text(float("nan")) == "" and html_text(12.5) == "12.5"


def test_js_value_is_json_that_cannot_leave_the_script():
    assert js_value("</script><script>alert(2)</script>") == (
        '"\\u003c/script\\u003e\\u003cscript\\u003ealert(2)\\u003c/script\\u003e"')
    assert js_value("`${alert(1)}`") == '"\\u0060$\\u007balert(1)\\u007d\\u0060"'
    assert js_value({"a": {"b": "{{7*7}}"}}) == (
        '{"a": {"b": "\\u007b\\u007b7*7\\u007d\\u007d"}}')
    assert js_value("a\u2028b\u2029c") == '"a\\u2028b\\u2029c"'
    assert js_value("it's & 长") == '"it\\u0027s \\u0026 长"'
    assert js_value({"k": ["<!--"]}) == '{"k": ["\\u003c!--"]}'
    for text in CORPUS:
        assert json.loads(js_value(text)) == text
        assert not set(js_value(text)) & set("<>&'`{}\u2028\u2029")


def test_class_token_keeps_only_safe_characters():
    assert class_token("market") == "market"
    assert class_token("x'};alert(1);//") == "x___alert_1____"
    assert class_token("a b\"c") == "a_b_c" and class_token("") == "_"


def test_escaped_columns_escapes_only_the_named_ones():
    frame = pd.DataFrame({"name": ["<b>", None], "code": ["<i>", "1"]})
    out = escaped_columns(frame, ["name"])
    assert out["name"].tolist() == ["&lt;b&gt;", ""]
    assert out["code"].tolist() == ["<i>", "1"] and frame["name"].iloc[0] == "<b>"


def _tooltip_arguments(page: str) -> list[str]:
    """The strings passed to ``bindTooltip`` (JSON), decoded; function arguments are skipped."""
    decoder, out = json.JSONDecoder(), []
    for match in re.finditer(r"\.bindTooltip\(\s*", page):
        if page[match.end()] == '"':
            out.append(decoder.raw_decode(page, match.end())[0])
    return out


def _facilities(names: list[str], *, category: str = "market") -> gpd.GeoDataFrame:
    """One facility per name, ``name``, address and subtype all that name, 100 m apart."""
    n = len(names)
    lon = [121.40 + 0.001 * (i % 10) for i in range(n)]
    lat = [31.20 + 0.001 * (i // 10) for i in range(n)]
    return gpd.GeoDataFrame(
        {"id": [f"f{i}" for i in range(n)], "name": names, "category": category,
         "subtype": names, "address": names, "capacity": [float(i + 1) for i in range(n)],
         "status": "existing", "lon": lon, "lat": lat, "source": "test"},
        geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")


def _streets(names: list[str]) -> gpd.GeoDataFrame:
    n = len(names)
    return gpd.GeoDataFrame(
        {"code": [f"<{i}>" for i in range(n)], "name": names, "name_en": names[::-1],
         "population": 1000.0},
        geometry=[shapely.box(121.39 + 0.003 * i, 31.19, 121.392 + 0.003 * i, 31.22)
                  for i in range(n)], crs="EPSG:4326")


def _cells(streets: list[str]) -> gpd.GeoDataFrame:
    """Two cells a street, one covered, one a gap; the nearest facility named like it."""
    ids = [h3.latlng_to_cell(31.20 + 0.002 * i, 121.40 + 0.001 * j, 10)
           for i in range(len(streets)) for j in range(2)]
    names = [name for name in streets for _ in range(2)]
    return gpd.GeoDataFrame(
        {"cell": ids, "code": [f"<{i // 2}>" for i in range(len(ids))], "street": names,
         "distance_m": [100.0, 900.0] * len(streets), "nearest_name": names,
         "covered": [True, False] * len(streets)},
        geometry=cell_polygons(ids).to_numpy(), crs="EPSG:4326")


def _explorer(names: list[str], *, merged: bool, category: str = "market") -> str:
    cells = _cells(names[:10])
    changes = cells.assign(change=["gained", "lost"] * (len(cells) // 2))
    view = MapView(category=category, radius_m=500, category_names={category: names[0]},
                   shown=(category,), lang="en", demo=True)
    return explorer_map(view, streets=_streets(names[:10]), cells=cells, changes=changes,
                        facilities=_facilities(names, category=category),
                        cell_limit=0 if merged else None).get_root().render()


def test_facility_tooltips_are_the_escaped_text_as_json():
    page = base_map(BOUNDS)
    facility_layer(_facilities(list(CORPUS)), category="market", name="M").add_to(page)
    tooltips = _tooltip_arguments(page.get_root().render())
    assert tooltips == [
        f"<div><b>{html_text(name)}</b><br>{html_text(name)} · existing<br>容量 {i + 1}"
        f"<br>地址 {html_text(name)}</div>" for i, name in enumerate(CORPUS)]


def test_html_tooltip_template_passes_json_not_a_template_literal():
    page = base_map(BOUNDS)
    folium.CircleMarker([31.2, 121.4], tooltip=HtmlTooltip("<b>x</b> ${1}")).add_to(page)
    rendered = page.get_root().render()
    assert '.bindTooltip("\\u003cdiv\\u003e\\u003cb\\u003ex\\u003c/b\\u003e ${1}' in rendered
    assert "`" not in rendered


@pytest.mark.parametrize("merged", [False, True], ids=["cells", "merged"])
def test_the_explorer_map_keeps_user_text_out_of_code(merged):
    hostile = _explorer(list(CORPUS), merged=merged)
    benign = _explorer([f"name{i}" for i in range(len(CORPUS))], merged=merged)
    # the only template literals are folium's own, as in a map of harmless names
    literals = hostile.split("`")[1::2]
    assert literals == benign.split("`")[1::2]
    assert all(FOLIUM_LITERAL.fullmatch(literal) for literal in literals)
    # no markup of the names survives, no new script element, no raw line separator in code
    assert hostile.count("<script") == benign.count("<script")
    for raw in ("<script>alert(2)", "<img src=x", "onerror=alert(3)>", "\u2028"):
        assert raw not in hostile
    tooltips = _tooltip_arguments(hostile)
    assert len(tooltips) == len(CORPUS)
    assert [t.split("</b>")[0] for t in tooltips] == [f"<div><b>{html_text(n)}" for n in CORPUS]


def test_every_label_layer_name_legend_and_attribution_is_escaped():
    name = "\"'><img src=x onerror=alert(3)>"
    escaped = html_text(name)
    streets = street_layer(_streets([name]), name=name, label_field="name",
                           aliases=(name, name, name, name))
    (geojson,) = [c for c in streets._children.values() if c._name == "GeoJson"]
    (marker,) = [c for c in streets._children.values() if c._name == "Marker"]
    assert streets.layer_name == escaped
    assert geojson.data["features"][0]["properties"]["name"] == escaped
    assert geojson.data["features"][0]["properties"]["code"] == "&lt;0&gt;"
    tooltip = next(iter(geojson._children.values()))
    assert tooltip.aliases == [escaped] * 4
    assert marker.icon.options["html"] == f'<div class="street-label">{escaped}</div>'
    assert change_layer(_cells(["a"]).assign(change=["gained", "lost"]),
                        name=name).layer_name == escaped
    page = base_map(BOUNDS, attribution=name)
    add_legend(page, [(name, [("#123456", name)])])
    rendered = page.get_root().render()
    start = rendered.index(".addAttribution(") + len(".addAttribution(")
    assert json.JSONDecoder().raw_decode(rendered, start)[0] == escaped
    assert f"<b>{escaped}</b>" in rendered and f"</span>{escaped}</div>" in rendered


def test_a_hostile_category_key_becomes_a_class_token_in_json():
    layer = facility_layer(_facilities(["a"], category="x'};alert(1);//"),
                           category="x'};alert(1);//", name="M")
    assert 'className:"facility-cluster facility-cluster-x___alert_1____"' in (
        layer.icon_create_function)
    assert "'};" not in layer.icon_create_function
    (marker,) = layer._children.values()
    assert marker.options["className"] == "facility facility-x___alert_1____"


def test_a_legend_colour_must_be_a_hex_colour():
    with pytest.raises(ValueError, match=r"legend colours must be hex colours.*red;x"):
        add_legend(base_map(BOUNDS), [("t", [("red;x", "a")])])


def test_the_offline_report_html_has_no_live_markup():
    page = standalone_html(explorer_map(
        MapView(category="market", radius_m=500, category_names={"market": CORPUS[2]},
                shown=("market",)),
        streets=_streets(list(CORPUS[:10])), cells=_cells(list(CORPUS[:10])),
        facilities=_facilities(list(CORPUS))))
    for raw in ("<script>alert(2)", "<img src=x", "onerror=alert(3)>"):
        assert raw not in page
    assert [t.split("</b>")[0] for t in _tooltip_arguments(page)] == [
        f"<div><b>{html_text(n)}" for n in CORPUS]


@pytest.mark.parametrize("name", [
    "{{ this.__init__.__globals__.__builtins__.len(this.__class__.__name__) }}",
    "{% if true %}x{% endif %}", "{# hidden #}", "{{7*7}}"])
def test_jinja_in_user_text_is_never_evaluated(name):
    """branca renders each script again as a jinja template: a name must not reach it."""
    page = _explorer([name] * 10, merged=False)
    assert not re.search(r"\{[{%#]", page)
    assert set(_tooltip_arguments(page)) == {
        f"<div><b>{html_text(name)}</b><br>{html_text(name)} · existing<br>Capacity {i + 1}"
        f"<br>Address {html_text(name)}</div>" for i in range(10)}
    assert page.count(f"{html_text(name)}</div>") >= 1  # the legend, with the category name
