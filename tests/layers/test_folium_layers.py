from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from layers.folium_layers import (
    add_layer_control,
    add_legend,
    base_map,
    coverage_layer,
    coverage_legend_entries,
    facility_layer,
    gap_layer,
    street_layer,
)
from layers.style import COVERED_COLOUR, GAP_COLOUR, distance_colour

XSS = "<img src=x onerror=alert(1)>"


def _facilities() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"id": ["1", "2"], "name": [XSS, "菜场"], "category": ["market", "market"],
         "subtype": ["smart", ""], "capacity": [10.0, float("nan")],
         "address": ["a & b", ""], "lon": [121.40, 121.41], "lat": [31.20, 31.21],
         "status": ["existing", "planned"]},
        geometry=[shapely.Point(121.40, 31.20), shapely.Point(121.41, 31.21)], crs="EPSG:4326")


def _render(*layers) -> str:
    fmap = base_map((121.39, 31.19, 121.42, 31.22), attribution="Demo <data>")
    for layer in layers:
        layer.add_to(fmap)
    add_layer_control(fmap)
    return fmap.get_root().render()


def test_user_text_is_escaped_in_facility_tooltips():
    html = _render(facility_layer(_facilities(), category="market", name="Markets"))
    # the tooltip is HTML (user text escaped) passed to bindTooltip as a JSON string
    assert ('.bindTooltip("\\u003cdiv\\u003e\\u003cb\\u003e\\u0026lt;img src=x '
            'onerror=alert(1)\\u0026gt;\\u003c/b\\u003e') in html
    assert XSS not in html
    assert "a \\u0026amp; b" in html
    # the attribution is HTML for Leaflet, so it is escaped inside the JS string too
    assert 'addAttribution("Demo \\u0026lt;data\\u0026gt;")' in html


def test_planned_facilities_are_drawn_hollow_and_dashed():
    html = _render(facility_layer(_facilities(), category="market", name="Markets"))
    assert html.count("L.circleMarker(") == 2
    assert html.count("L.markerClusterGroup(") == 1
    assert '"className": "facility facility-market"' in html
    assert '"dashArray": "4 3"' in html
    assert '"fillOpacity": 0.25' in html


def test_street_names_are_escaped_in_the_geojson():
    streets = gpd.GeoDataFrame({"code": ["1"], "name": [XSS], "name_en": ["A"],
                                "population": [1000.0]},
                               geometry=[shapely.box(121.4, 31.2, 121.41, 31.21)],
                               crs="EPSG:4326")
    html = _render(street_layer(streets, name="Streets"))
    assert XSS not in html
    # the label is HTML inside a JS string: the name's markup arrives escaped
    assert html.count("L.divIcon(") == 1
    assert ('"\\u003cdiv class=\\"street-label\\"\\u003e\\u0026lt;img src=x '
            'onerror=alert(1)\\u0026gt;\\u003c/div\\u003e"') in html
    assert "\\u0026lt;img" in html or "&lt;img" in html
    assert "1,000" in html


def test_coverage_cells_are_one_geojson_coloured_by_mode():
    cells = gpd.GeoDataFrame(
        {"cell": ["a", "b"], "street": ["甲", "乙"], "distance_m": [100.0, 900.0],
         "nearest_name": [XSS, "y"], "covered": [True, False]},
        geometry=[shapely.box(121.40, 31.20, 121.401, 31.201),
                  shapely.box(121.41, 31.21, 121.411, 31.211)], crs="EPSG:4326")
    by_distance = _render(coverage_layer(cells, radius_m=500, name="c", mode="distance"))
    assert by_distance.count("L.geoJson(") == 1
    assert '"className": "coverage-cell"' in by_distance
    assert distance_colour(100, 500) in by_distance and distance_colour(900, 500) in by_distance
    by_gap = _render(coverage_layer(cells, radius_m=500, name="c", mode="covered"))
    assert COVERED_COLOUR in by_gap and GAP_COLOUR in by_gap
    assert XSS not in by_gap


@pytest.mark.parametrize("distance, colour", [(0, "#0868ac"), (250, "#0868ac"),
                                              (500, "#43a2ca"), (501, "#fdae61"),
                                              (float("inf"), "#d73027")])
def test_distance_bands(distance, colour):
    assert distance_colour(distance, 500) == colour


def test_legend_entries_follow_the_radius_and_are_escaped():
    assert coverage_legend_entries(radius_m=500, mode="distance") == [
        ("#0868ac", "0–250 m"), ("#43a2ca", "250–500 m"), ("#fdae61", "500–750 m"),
        ("#f46d43", "750–1,000 m"), ("#d73027", "> 1,000 m")]
    assert coverage_legend_entries(radius_m=1000, mode="covered") == [
        (COVERED_COLOUR, "≤ 1,000 m 已覆盖 covered"), (GAP_COLOUR, "> 1,000 m 缺口 gap")]
    fmap = base_map((121.39, 31.19, 121.42, 31.22))
    add_legend(fmap, [("<b>x</b>", [("#000000", "a<b")])])
    html = fmap.get_root().render()
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "a&lt;b" in html


def test_gap_layer_draws_only_uncovered_cells():
    cells = gpd.GeoDataFrame(
        {"covered": [True, False, False]},
        geometry=[shapely.box(121.40, 31.20, 121.401, 31.201),
                  shapely.box(121.41, 31.21, 121.411, 31.211),
                  shapely.box(121.42, 31.21, 121.421, 31.211)], crs="EPSG:4326")
    html = _render(gap_layer(cells, name="gaps"))
    assert html.count('"type": "Polygon"') == 2
    assert '"className": "gap-cell"' in html
    assert "L.geoJson(" not in _render(gap_layer(cells[cells["covered"]], name="none"))


def test_the_map_has_a_zoom_range_even_without_tiles():
    html = base_map((121.39, 31.19, 121.42, 31.22)).get_root().render()
    assert '"maxZoom": 19' in html and '"minZoom": 9' in html
