"""The demo's residential areas and walking network, authored with the streets and facilities;
all approximate and labelled demo. Part of :mod:`make_demo_data`; no outside data is read.

- Walking network: a street grid about 180 m apart (jittered, fixed seed) over the district,
  with real barriers drawn by hand: a rail corridor and a river that only a few streets cross,
  an expressway crossable only at its junctions, and the airport closed to walkers.
- Residential compounds: one point inside each block between those streets, inside each street
  (街道), leaving the airport, the rail corridor, the river, the expressway, parks and
  industrial land empty; each street's demo population shared among its compounds (whole
  residents, summing exactly, weighted by the block's area), with a count aged 60 and over.
  Points, not block outlines: few coordinates, none of them anyone else's.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from demo_streets import STREETS, round_coords, to_metric, to_wgs84
from shapely.geometry import LineString, Point, Polygon

SPACING_M = 180.0
JITTER_M = 25.0
SEED = 20261202
SOURCE = "demo: authored by scripts/make_demo_data.py, approximate, not official data"
LINE_DECIMALS = 7

#: Hongqiao airport's grounds (lon, lat): closed to walkers, nobody lives there.
AIRPORT = ((121.334, 31.186), (121.3505, 31.186), (121.3505, 31.228), (121.334, 31.228))
#: Industrial and logistics land beside the airport (empty of residents).
INDUSTRY = ((121.3505, 31.203), (121.358, 31.203), (121.358, 31.222), (121.3505, 31.222))
#: Parks (centre lon, lat, radius in metres): paths, no residents.
PARKS = ((121.4175, 31.2225, 260.0), (121.4005, 31.2135, 200.0), (121.3625, 31.2020, 180.0),
         (121.4300, 31.2110, 150.0))


@dataclass(frozen=True)
class Barrier:
    """A line walkers cannot cross (lon, lat vertices) except near its crossings (lon, lat),
    and how wide a band of it holds no homes (metres)."""

    name: str
    line: tuple[tuple[float, float], ...]
    crossings: tuple[tuple[float, float], ...]
    width_m: float


BARRIERS = (
    Barrier("rail corridor", ((121.352, 31.2170), (121.380, 31.2160), (121.4450, 31.2180)),
            ((121.3720, 31.2163), (121.3980, 31.2166), (121.4260, 31.2173)), 60.0),
    Barrier("river", ((121.3690, 31.1870), (121.3700, 31.2050), (121.3680, 31.2270)),
            ((121.3697, 31.1960), (121.3692, 31.2200)), 50.0),
    # an elevated expressway: crossable only where its junctions are, every third street
    Barrier("expressway", ((121.336, 31.2060), (121.400, 31.2055), (121.440, 31.2085)),
            tuple((lon, 31.2058 + (lon - 121.36) * 0.04) for lon in
                  np.arange(121.362, 121.44, 0.0057).round(4)), 40.0),
)


def _metric_polygon(points: Sequence[tuple[float, float]]) -> Polygon:
    return to_metric(Polygon(points))


def _closed_land() -> shapely.Geometry:
    """Where nobody lives (metres): airport, industry, parks, barrier bands."""
    parts = [_metric_polygon(AIRPORT), _metric_polygon(INDUSTRY)]
    parts += [to_metric(Point(lon, lat)).buffer(r) for lon, lat, r in PARKS]
    parts += [to_metric(LineString(b.line)).buffer(b.width_m / 2) for b in BARRIERS]
    return shapely.union_all(parts)


def build_network(outline_m: Polygon) -> tuple[list[LineString], list[LineString]]:
    """The demo's walking streets as metric lines, in a fixed order, and the whole street
    grid before the barriers cut it (whose blocks are the residential areas)."""
    rng = np.random.default_rng(SEED)
    xmin, ymin, xmax, ymax = outline_m.bounds
    xs = np.arange(xmin - SPACING_M, xmax + SPACING_M, SPACING_M)
    ys = np.arange(ymin - SPACING_M, ymax + SPACING_M, SPACING_M)
    jitter = rng.uniform(-JITTER_M, JITTER_M, (len(xs), len(ys), 2))
    node = {(i, j): (xs[i] + jitter[i, j, 0], ys[j] + jitter[i, j, 1])
            for i in range(len(xs)) for j in range(len(ys))}
    area = outline_m.buffer(60.0)
    airport = _metric_polygon(AIRPORT)
    lines = []
    for (i, j), a in node.items():
        for other in ((i + 1, j), (i, j + 1)):
            if other not in node:
                continue
            line = LineString([a, node[other]])
            if line.intersects(area) and not line.intersects(airport):
                lines.append(line)
    return _cut_by_barriers(lines), lines


def _cut_by_barriers(lines: list[LineString]) -> list[LineString]:
    """``lines`` without those crossing a barrier, except the one nearest each crossing."""
    kept = np.ones(len(lines), dtype=bool)
    for barrier in BARRIERS:
        line = to_metric(LineString(barrier.line))
        crossing = np.flatnonzero([line.intersects(s) for s in lines])
        kept[crossing] = False
        for lon, lat in barrier.crossings:
            spot = to_metric(Point(lon, lat))
            nearest = crossing[np.argmin([lines[c].distance(spot) for c in crossing])]
            kept[nearest] = True
    return [s for s, keep in zip(lines, kept, strict=True) if keep]


def build_areas(polygons: Sequence[Polygon], grid: list[LineString]) -> list[dict]:
    """The residential compounds: per street, a point inside each block of the street ``grid``
    (metres) minus land where nobody lives, with whole residents summing to the street's
    population and a count aged 60+."""
    rng = np.random.default_rng(SEED + 1)
    blocks = list(shapely.polygonize(grid).geoms)
    closed = _closed_land()
    areas = []
    for street, polygon in zip(STREETS, polygons, strict=True):
        inside = to_metric(polygon).buffer(-15.0)
        pieces = []
        for block in blocks:
            home = block.buffer(-12.0).intersection(inside).difference(closed)
            if home.area >= 2000.0:
                pieces.append(home)
        weight = np.array([p.area for p in pieces]) * rng.uniform(0.4, 1.6, len(pieces))
        residents = _whole(street.population, weight)
        aged = rng.uniform(0.20, 0.36)
        for n, (piece, people) in enumerate(zip(pieces, residents, strict=True), start=1):
            areas.append({"id": f"{street.code}-{n:03d}", "street": street.code,
                          "name": f"示意小区 {street.short}{n}（演示）",
                          "population": int(people),
                          "elderly": round(people * aged * rng.uniform(0.8, 1.2)),
                          "geometry": piece.representative_point()})
    return areas


def _whole(total: int, weight: np.ndarray) -> np.ndarray:
    """``total`` shared by ``weight`` in whole numbers summing exactly (largest remainder)."""
    share = total * weight / weight.sum()
    whole = np.floor(share).astype(int)
    rest = total - whole.sum()
    whole[np.argsort(-(share - whole), kind="stable")[:rest]] += 1
    return whole


def check_areas(areas: list[dict]) -> None:
    """Each street's areas hold exactly its population, nobody at the airport."""
    airport = _metric_polygon(AIRPORT)
    for street in STREETS:
        got = sum(a["population"] for a in areas if a["street"] == street.code)
        if got != street.population:
            raise SystemExit(f"{street.code}: areas hold {got}, not {street.population}")
    if any(a["geometry"].intersects(airport) for a in areas):
        raise SystemExit("a residential area lies on the airport")


def _coords(geom: shapely.Geometry) -> shapely.Geometry:
    return shapely.transform(to_wgs84(geom), lambda xy: np.round(xy, LINE_DECIMALS))


def write_network(path: Path, lines: list[LineString]) -> None:
    """The walking streets as an RFC 7946 FeatureCollection of LineStrings, one a line."""
    rows = []
    for n, line in enumerate(lines):
        feature = {"type": "Feature", "properties": {"id": n, "source": SOURCE},
                   "geometry": {"type": "LineString",
                                "coordinates": [list(c) for c in _coords(line).coords]}}
        rows.append(json.dumps(feature, separators=(",", ":")))
    _write(path, rows)


def write_areas(path: Path, areas: list[dict]) -> None:
    """The residential compounds as an RFC 7946 FeatureCollection of points, one a line."""
    rows = []
    for area in areas:
        shape = round_coords(to_wgs84(area["geometry"]))
        geometry = json.loads(shapely.to_geojson(shapely.set_precision(shape, 1e-6)))
        properties = {k: area[k] for k in ("id", "street", "name", "population", "elderly")}
        rows.append(json.dumps({"type": "Feature",
                                "properties": {**properties, "source": SOURCE},
                                "geometry": geometry}, ensure_ascii=False,
                               separators=(",", ":")))
    _write(path, rows)


def _write(path: Path, rows: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"type":"FeatureCollection","features":[\n' + ",\n".join(rows)
                    + "\n]}\n", encoding="utf-8")
