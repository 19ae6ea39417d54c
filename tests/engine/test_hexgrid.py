from __future__ import annotations

import geopandas as gpd
import h3
import numpy as np
import pytest
import shapely

from geo.engine.hexgrid import (
    cell_area_km2,
    cell_polygons,
    cells_area_km2,
    spread_population,
    street_cells,
    validate_resolution,
)
from geo.model.errors import InputError

# A res-9 cell in Changning and its six neighbours.
CENTRE = h3.latlng_to_cell(31.215, 121.40, 9)
RING = sorted(set(h3.grid_disk(CENTRE, 1)) - {CENTRE})


def _street_of(cells: list[str], code: str, population: float) -> dict:
    return {"code": code, "name": code, "name_en": "", "population": population,
            "geometry": shapely.union_all(list(cell_polygons(cells)))}


@pytest.fixture
def hex_streets() -> gpd.GeoDataFrame:
    """Street 1 is exactly the centre cell plus three neighbours, street 2 the other three."""
    return gpd.GeoDataFrame([_street_of([CENTRE, *RING[:3]], "1", 400.0),
                             _street_of(RING[3:], "2", 30.0)], crs="EPSG:4326")


def test_cells_are_exactly_those_whose_centre_lies_in_the_street(hex_streets):
    cells = street_cells(hex_streets, resolution=9)
    assert sorted(cells.index[cells["code"] == "1"]) == sorted([CENTRE, *RING[:3]])
    assert sorted(cells.index[cells["code"] == "2"]) == RING[3:]
    lat, lng = h3.cell_to_latlng(CENTRE)
    assert cells.loc[CENTRE, "lon"] == pytest.approx(lng, abs=1e-12)
    assert cells.loc[CENTRE, "lat"] == pytest.approx(lat, abs=1e-12)


def test_children_fill_the_parent_streets_at_finer_resolution(hex_streets):
    cells = street_cells(hex_streets, resolution=10)
    assert len(cells) == 7 * 7
    assert cells.index.is_unique
    expected = {child for c in RING[3:] for child in h3.cell_to_children(c, 10)}
    assert set(cells.index[cells["code"] == "2"]) == expected


def test_population_is_spread_evenly_over_the_street_cells(hex_streets):
    cells = street_cells(hex_streets, resolution=9)
    population = spread_population(cells, hex_streets)
    assert population[CENTRE] == pytest.approx(100.0)
    assert population[RING[5]] == pytest.approx(10.0)
    assert population.sum() == pytest.approx(430.0)


def test_unknown_population_stays_unknown(hex_streets):
    hex_streets.loc[1, "population"] = np.nan
    population = spread_population(street_cells(hex_streets, resolution=9), hex_streets)
    assert population.isna().sum() == 3
    assert population.sum() == pytest.approx(400.0)


def test_a_cell_on_a_shared_border_goes_to_one_street_only(hex_streets):
    both = gpd.GeoDataFrame([_street_of([CENTRE], "b", 1.0), _street_of([CENTRE], "a", 1.0)],
                            crs="EPSG:4326")
    cells = street_cells(both, resolution=9)
    assert list(cells.index) == [CENTRE]
    assert cells.loc[CENTRE, "code"] == "a"


def test_cell_polygons_and_areas():
    polygons = cell_polygons([CENTRE])
    assert polygons.index.tolist() == [CENTRE]
    assert polygons.iloc[0].contains(shapely.Point(h3.cell_to_latlng(CENTRE)[::-1]))
    # UTM 51N shrinks areas here by ~0.02%, and the straight-edged hexagon differs from H3's
    # geodesic one by ~0.1%.
    assert cells_area_km2([CENTRE]) == pytest.approx(h3.cell_area(CENTRE, "km^2"), rel=2e-3)
    assert cell_area_km2(9) == pytest.approx(h3.average_hexagon_area(9, "km^2"))
    assert cells_area_km2([]) == 0.0


@pytest.mark.parametrize("value", [6, 13, 10.0, "10", True, None])
def test_resolution_outside_7_to_12_is_refused(value):
    with pytest.raises(InputError, match=r"resolution must be an integer from 7 to 12"):
        validate_resolution(value)


def test_streets_must_be_in_wgs84(hex_streets):
    with pytest.raises(InputError, match=r"streets must be in EPSG:4326"):
        street_cells(hex_streets.to_crs("EPSG:32651"), resolution=9)
