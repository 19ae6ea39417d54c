"""Coverage along a walking network: compute_coverage(network=...), recompute keeping to it,
and the CLI's ``coverage --network FILE``."""

from __future__ import annotations

import json

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.data.network_io import network_from_graph, read_network
from geo.data.schema import normalize_facilities
from geo.engine.coverage import cell_coverage, compute_coverage, recompute
from geo.engine.walk import network_nearest
from geo.model.config import METRIC_CRS, STORAGE_CRS
from geo.model.targets import targets_from_mapping
from geo.plan.json_output import coverage_to_dict
from tests.cli_helpers import run_cli
from tests.conftest import ORIGIN_X, ORIGIN_Y, facility_frame, metric_to_lonlat

SPACING = 100.0
RESOLUTION = 11


def _river_graph() -> nx.Graph:
    """A 5 × 5 street grid 100 m apart from the fixture origin, whose only crossing between
    columns 2 and 3 is the top row (a river), and a separate street 1 km east."""
    graph = nx.Graph(crs="EPSG:4326")
    points = {f"{i},{j}": (SPACING * i, SPACING * j) for i in range(5) for j in range(5)}
    points.update({"far0": (1000.0, 0.0), "far1": (1100.0, 0.0)})
    for node, (dx, dy) in points.items():
        lon, lat = metric_to_lonlat(dx, dy)
        graph.add_node(node, x=float(lon), y=float(lat))
    graph.add_edge("far0", "far1", length=SPACING)
    for i in range(5):
        for j in range(5):
            if j < 4:
                graph.add_edge(f"{i},{j}", f"{i},{j + 1}", length=SPACING)
            if i < 4 and not (i == 2 and j < 4):
                graph.add_edge(f"{i},{j}", f"{i + 1},{j}", length=SPACING)
    return graph


@pytest.fixture
def river():
    return network_from_graph(_river_graph())


@pytest.fixture
def streets() -> gpd.GeoDataFrame:
    """West (the grid) and east (the far street) streets, 1,000 and 500 people."""
    boxes = [shapely.box(ORIGIN_X - 50, ORIGIN_Y - 50, ORIGIN_X + 450, ORIGIN_Y + 450),
             shapely.box(ORIGIN_X + 950, ORIGIN_Y - 50, ORIGIN_X + 1150, ORIGIN_Y + 50)]
    return gpd.GeoDataFrame({"code": ["310105900001", "310105900002"], "name": ["西", "东"],
                             "name_en": ["W", "E"], "population": [1000.0, 500.0]},
                            geometry=boxes, crs=METRIC_CRS).to_crs(STORAGE_CRS)


@pytest.fixture
def targets():
    return targets_from_mapping({"defaults": {"target_share": 0.9},
                                 "categories": {"market": {"radius_m": 250}}})


def _markets(targets, *points: tuple[float, float]):
    return normalize_facilities(facility_frame([
        {"id": f"m{n}", "name": f"菜场{n}", "category": "market", "dx": dx, "dy": dy}
        for n, (dx, dy) in enumerate(points, start=1)]), known_categories=targets.keys())


def _distances(result) -> pd.Series:
    frame = result.cell_coverage
    return frame.set_index("cell")["distance_m"]


def test_cells_across_the_river_walk_round_it_and_the_far_street_is_unreached(
        river, streets, targets):
    markets = _markets(targets, (100, 100))  # west of the river
    walked = compute_coverage(streets, markets, targets, resolution=RESOLUTION, network=river)
    straight = compute_coverage(streets, markets, targets, resolution=RESOLUTION)
    expected = network_nearest(walked.cells, markets, river)
    assert _distances(walked).to_numpy() == pytest.approx(expected["distance_m"].to_numpy(),
                                                          abs=1e-6)
    assert walked.network is river
    # a cell at (300, 100), across the river: 200 m in a straight line, 600 m on foot
    lon, lat = metric_to_lonlat(300, 100)
    across = ((walked.cells["lon"] - lon) ** 2 + (walked.cells["lat"] - lat) ** 2).idxmin()
    assert _distances(straight)[across] < 250 < _distances(walked)[across]
    # the far street has no path to the market: uncovered, not distance 0
    east = walked.cells.index[walked.cells["code"] == "310105900002"]
    assert len(east) > 0 and np.isinf(_distances(walked)[east]).all()
    rows = walked.streets.set_index("code")
    assert rows.loc["310105900002", "covered_cells"] == 0
    assert rows.loc["310105900001", "covered_cells"] < straight.streets.set_index("code").loc[
        "310105900001", "covered_cells"]
    # the frame function with the network gives the same rows
    frame = cell_coverage(walked.cells, markets, targets, categories=["market"], network=river)
    assert frame["distance_m"].to_numpy() == pytest.approx(
        _distances(walked).reindex(frame["cell"]).to_numpy(), abs=1e-6)


def test_recompute_keeps_walking(river, streets, targets):
    before = compute_coverage(streets, _markets(targets, (100, 100)), targets,
                              resolution=RESOLUTION, network=river)
    moved = _markets(targets, (400, 100))  # the market crosses the river
    after = recompute(before, moved, targets, categories=["market"])
    fresh = compute_coverage(streets, moved, targets, resolution=RESOLUTION, network=river)
    pd.testing.assert_frame_equal(after.streets, fresh.streets)
    assert _distances(after).to_numpy() == pytest.approx(_distances(fresh).to_numpy(), abs=1e-9)
    assert after.network is river


def _cli_files(tmp_path, streets, markets) -> dict[str, str]:
    paths = {"boundaries": tmp_path / "streets.geojson", "facilities": tmp_path / "m.csv",
             "targets": tmp_path / "targets.toml", "network": tmp_path / "walk.graphml"}
    streets.to_file(paths["boundaries"], driver="GeoJSON")
    pd.DataFrame(markets.drop(columns="geometry")).to_csv(paths["facilities"], index=False)
    paths["targets"].write_text('[defaults]\ntarget_share = 0.9\n\n[categories.market]\n'
                                'radius_m = 250\n', encoding="utf-8")
    nx.write_graphml(_river_graph(), paths["network"])
    return {k: str(v) for k, v in paths.items()}


def test_cli_coverage_along_a_graphml_network(tmp_path, streets, targets):
    markets = _markets(targets, (100, 100), (1050, 0))
    files = _cli_files(tmp_path, streets, markets)
    common = ["coverage", "--boundaries", files["boundaries"], "--facilities",
              files["facilities"], "--targets", files["targets"], "--resolution",
              str(RESOLUTION)]
    done = run_cli(*common, "--network", files["network"])
    assert done.returncode == 0, done.stderr
    network = read_network(files["network"])
    expected = compute_coverage(streets, markets, targets, resolution=RESOLUTION,
                                network=network)
    assert json.loads(done.stdout) == json.loads(json.dumps(coverage_to_dict(expected)))
    plain = run_cli(*common)
    assert json.loads(plain.stdout) != json.loads(done.stdout)


def test_cli_network_errors_exit_2(tmp_path, streets, targets):
    files = _cli_files(tmp_path, streets, _markets(targets, (100, 100)))
    broken = tmp_path / "broken.graphml"
    broken.write_text("<graphml><not closed", encoding="utf-8")
    common = ["coverage", "--boundaries", files["boundaries"], "--facilities",
              files["facilities"], "--targets", files["targets"]]
    done = run_cli(*common, "--network", str(broken))
    assert done.returncode == 2
    assert str(broken) in done.stderr and "Traceback" not in done.stderr
    dask = run_cli(*common, "--network", files["network"], "--engine", "dask")
    assert dask.returncode == 2
    assert "the dask engine measures straight lines" in dask.stderr


def test_cli_json_says_network_and_counts_cells_beyond_max_snap(tmp_path, streets, targets):
    files = _cli_files(tmp_path, streets, _markets(targets, (100, 100)))
    common = ["coverage", "--boundaries", files["boundaries"], "--facilities",
              files["facilities"], "--targets", files["targets"], "--resolution",
              str(RESOLUTION), "--network", files["network"]]
    wide = json.loads(run_cli(*common).stdout)
    assert (wide["distance"], wide["detour_factor"]) == ("network", None)
    assert wide["unreachable_cells"] == 0
    done = run_cli(*common, "--max-snap", "20")
    assert done.returncode == 0, done.stderr
    tight = json.loads(done.stdout)
    # cells more than 20 m from every street: counted, per street too, and uncovered
    network = read_network(files["network"]).with_max_snap(20)
    expected = compute_coverage(streets, _markets(targets, (100, 100)), targets,
                                resolution=RESOLUTION, network=network)
    assert tight["unreachable_cells"] == expected.unreachable_cells > 0
    assert sum(s["unreachable_cells"] for s in tight["streets"]) == tight["unreachable_cells"]
    west = tight["streets"][0]["coverage"]["market"]
    assert west["covered_cells"] < wide["streets"][0]["coverage"]["market"]["covered_cells"]
    bad = run_cli(*common, "--max-snap", "-5")
    assert bad.returncode == 2 and "--max-snap must be a positive number" in bad.stderr


def test_suggestions_walk_the_network(river, streets, targets):
    from geo.plan.suggest import suggest_sites

    markets = _markets(targets, (100, 100))
    walked = compute_coverage(streets, markets, targets, resolution=RESOLUTION, network=river)
    straight = compute_coverage(streets, markets, targets, resolution=RESOLUTION)
    site = suggest_sites(walked, category="market", k=1, code="310105900001").iloc[0]
    # the cells the site newly covers are the uncovered ones within 250 m on foot of it
    near = network_nearest(walked.cells, pd.DataFrame({"id": ["s"], "name": ["s"],
                                                       "lon": [site["lon"]],
                                                       "lat": [site["lat"]]}), river)
    uncovered = walked.cell_coverage.set_index("cell")["covered"] == False  # noqa: E712
    on_foot = near.index[(near["distance_m"] <= 250) & uncovered.reindex(near.index).to_numpy()
                         & (walked.cells["code"] == "310105900001").to_numpy()]
    assert site["newly_covered_cells"] == len(on_foot) > 0
    by_line = suggest_sites(straight, category="market", k=1, code="310105900001").iloc[0]
    assert by_line["newly_covered_cells"] != site["newly_covered_cells"]
