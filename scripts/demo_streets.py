"""The demo's street outlines: a rough district polygon scaled to the district's area, tiled by
the Voronoi cells of one hand-placed seed point a street, checked for gaps and overlaps, and
written as GeoJSON. Part of :mod:`make_demo_data`; no outside data is read.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np
import shapely
from pyproj import Transformer
from shapely import affinity
from shapely.geometry import LineString, MultiLineString, MultiPoint, Point, Polygon
from shapely.geometry.polygon import orient

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from geo.model.config import METRIC_CRS, STORAGE_CRS  # noqa: E402

DECIMALS = 6
GRID = 10.0**-DECIMALS
TARGET_AREA_M2 = 37.5e6
AREA_RANGE_M2 = (37.0e6, 38.0e6)
EDGE_MARGIN_M = 20.0
#: Points are drawn this far inside, so rounding to 6 decimals keeps them ≥ EDGE_MARGIN_M inside.
SAMPLE_MARGIN_M = 25.0
MIN_SPACING_M = 60.0
MAX_OVERLAP_M2 = 1.0
AREA_TOLERANCE = 1e-6

BOUNDARY_SOURCE = (
    "demo: approximate outline authored by scripts/make_demo_data.py, not official boundaries"
)

#: Rough district outline (lon, lat), clockwise from the eastern tip near Jing'an. The north
#: edge follows Suzhou Creek loosely; the west end takes in Hongqiao airport.
DISTRICT_OUTLINE = (
    (121.446, 31.224),  # east tip, Huashan Road / Yan'an West Road
    (121.441, 31.214),  # Huaihai West Road, border with Xuhui
    (121.434, 31.203),
    (121.424, 31.197),  # Hongqiao Road / Panyu Road area
    (121.408, 31.193),
    (121.392, 31.192),
    (121.376, 31.187),
    (121.360, 31.185),
    (121.346, 31.188),  # south of Hongqiao airport
    (121.336, 31.197),
    (121.335, 31.210),  # west end, airport
    (121.341, 31.222),
    (121.354, 31.227),  # Suzhou Creek from here eastwards, loosely
    (121.368, 31.225),
    (121.381, 31.229),
    (121.393, 31.226),
    (121.402, 31.232),
    (121.413, 31.231),
    (121.421, 31.235),  # creek bend north of Zhongshan Park
    (121.429, 31.232),
    (121.436, 31.229),
    (121.442, 31.229),
)


@dataclass(frozen=True)
class Street:
    """One street (街道) or town (镇) of the district, with a hand-placed seed point."""

    code: str
    name: str
    name_en: str
    short: str
    population: int
    seed: tuple[float, float]


STREETS = (
    Street("310105001000", "华阳路街道", "Huayang Road Subdistrict", "华阳路", 68000,
           (121.425, 31.222)),
    Street("310105002000", "江苏路街道", "Jiangsu Road Subdistrict", "江苏路", 45000,
           (121.437, 31.222)),
    Street("310105004000", "新华路街道", "Xinhua Road Subdistrict", "新华路", 63000,
           (121.428, 31.206)),
    Street("310105005000", "周家桥街道", "Zhoujiaqiao Subdistrict", "周家桥", 75000,
           (121.410, 31.226)),
    Street("310105006000", "天山路街道", "Tianshan Road Subdistrict", "天山路", 82000,
           (121.405, 31.213)),
    Street("310105008000", "仙霞新村街道", "Xianxia Xincun Subdistrict", "仙霞新村", 82000,
           (121.390, 31.207)),
    Street("310105009000", "虹桥街道", "Hongqiao Subdistrict", "虹桥", 68000,
           (121.413, 31.200)),
    Street("310105010000", "程家桥街道", "Chengjiaqiao Subdistrict", "程家桥", 36000,
           (121.370, 31.196)),
    Street("310105011000", "北新泾街道", "Beixinjing Subdistrict", "北新泾", 62000,
           (121.380, 31.220)),
    Street("310105102000", "新泾镇", "Xinjing Town", "新泾镇", 112000,
           (121.352, 31.212)),
)
STREET_BY_CODE = {s.code: s for s in STREETS}
BEIXINJING = "310105011000"
XINJING = "310105102000"
TIANSHAN = "310105006000"
HUAYANG = "310105001000"

TO_METRIC = Transformer.from_crs(STORAGE_CRS, METRIC_CRS, always_xy=True)
TO_WGS84 = Transformer.from_crs(METRIC_CRS, STORAGE_CRS, always_xy=True)


# --------------------------------------------------------------------------- geometry helpers


def to_metric(geom: shapely.Geometry) -> shapely.Geometry:
    """The geometry, lon/lat degrees → EPSG:32651 metres."""
    return shapely.transform(geom, lambda xy: np.column_stack(TO_METRIC.transform(*xy.T)))


def to_wgs84(geom: shapely.Geometry) -> shapely.Geometry:
    """The geometry, EPSG:32651 metres → lon/lat degrees."""
    return shapely.transform(geom, lambda xy: np.column_stack(TO_WGS84.transform(*xy.T)))


def round_coords(geom: shapely.Geometry) -> shapely.Geometry:
    """The geometry with every coordinate rounded to DECIMALS (same input, same output)."""
    return shapely.transform(geom, lambda xy: np.round(xy, DECIMALS))


def scaled_outline_metric() -> Polygon:
    """The authored district outline in metres, scaled about its centroid to TARGET_AREA_M2."""
    outline = to_metric(Polygon(DISTRICT_OUTLINE))
    factor = float(np.sqrt(TARGET_AREA_M2 / outline.area))
    return affinity.scale(outline, xfact=factor, yfact=factor, origin="centroid")


def voronoi_cells(outline: Polygon, seeds: Sequence[Point]) -> list[shapely.Geometry]:
    """One Voronoi cell per seed (same order), clipped to the outline; all in metres."""
    cells = shapely.voronoi_polygons(MultiPoint(seeds), extend_to=outline.buffer(5000.0),
                                     ordered=True)
    clipped = [cell.intersection(outline) for cell in cells.geoms]
    for street, cell in zip(STREETS, clipped, strict=True):
        if cell.geom_type != "Polygon":
            raise AssertionError(f"{street.name}: Voronoi cell is a {cell.geom_type}, "
                                 "move its seed or the outline")
    return clipped


def noded_linework_wgs84(cells: Iterable[shapely.Geometry]) -> MultiLineString:
    """All cell boundaries, noded, in lon/lat snapped to the DECIMALS grid and noded again."""
    lines = shapely.unary_union([cell.boundary for cell in cells])
    snapped = shapely.set_precision(round_coords(to_wgs84(lines)), GRID)
    if snapped.geom_type == "LineString":
        snapped = MultiLineString([snapped])
    return snapped


def faces_by_street(linework: MultiLineString, cells: Sequence[shapely.Geometry],
                    ) -> list[Polygon]:
    """The polygonized faces of the linework, one per street (same order as the cells)."""
    faces = [round_coords(f) for f in shapely.polygonize(list(linework.geoms)).geoms]
    if len(faces) != len(cells):
        raise AssertionError(f"polygonize gave {len(faces)} faces for {len(cells)} streets")
    by_street: list[Polygon | None] = [None] * len(cells)
    cells_wgs = [to_wgs84(c) for c in cells]
    for face in faces:
        probe = face.point_on_surface()
        owners = [i for i, cell in enumerate(cells_wgs) if cell.contains(probe)]
        if len(owners) != 1 or by_street[owners[0]] is not None:
            raise AssertionError(f"face at {probe.wkt} matches streets {owners}")
        by_street[owners[0]] = orient(face, sign=1.0)
    return [face for face in by_street if face is not None]


def check_tiling(polygons: Sequence[Polygon], outline: Polygon) -> dict[str, float]:
    """Assert the polygons tile the outline (lon/lat): valid, no gaps, no overlaps.

    Returns the areas (m², EPSG:32651) for the report.
    """
    for street, poly in zip(STREETS, polygons, strict=True):
        if poly.geom_type != "Polygon" or not poly.is_valid or poly.is_empty:
            raise AssertionError(f"{street.name}: not a valid Polygon "
                                 f"({shapely.is_valid_reason(poly)})")
    if not shapely.coverage_is_valid(np.array(polygons, dtype=object)):
        raise AssertionError("street polygons are not a valid coverage")
    union = shapely.union_all(polygons)
    if abs(union.area - outline.area) > AREA_TOLERANCE * outline.area:
        raise AssertionError(f"union area {union.area} != outline area {outline.area}")
    if union.symmetric_difference(outline).area > AREA_TOLERANCE * outline.area:
        raise AssertionError("union of the streets differs from the outline")
    metric = [to_metric(p) for p in polygons]
    worst = 0.0
    for i, a in enumerate(metric):
        for b in metric[i + 1:]:
            worst = max(worst, a.intersection(b).area)
    if worst >= MAX_OVERLAP_M2:
        raise AssertionError(f"street polygons overlap by {worst:.3f} m²")
    total = float(sum(p.area for p in metric))
    if not AREA_RANGE_M2[0] <= total <= AREA_RANGE_M2[1]:
        raise AssertionError(f"total area {total / 1e6:.3f} km² outside {AREA_RANGE_M2}")
    return {"total_m2": total, "worst_overlap_m2": worst}


def ring_with_nodes(ring: shapely.LinearRing, nodes: Iterable[Point]) -> shapely.LinearRing:
    """The ring with every node that lies on it (within 1 mm) inserted as a vertex, in order."""
    coords = list(ring.coords)
    on_ring = [p for p in nodes if ring.distance(p) < 1e-3]
    out: list[tuple[float, float]] = []
    for start, end in pairwise(coords):
        segment = LineString([start, end])
        inside = [p for p in on_ring if segment.distance(p) < 1e-3
                  and p.coords[0] not in (start, end)]
        inside.sort(key=segment.project)
        out.append(start)
        out += [p.coords[0] for p in inside]
    return shapely.LinearRing(out)


def noded_outline_wgs84(outline_m: Polygon, cells: Sequence[shapely.Geometry]) -> Polygon:
    """The outline with the cells' vertices on its edge inserted, in rounded lon/lat.

    Built from the same metric vertices as the street polygons, so after the same rounding the
    streets must tile it exactly.
    """
    nodes = [Point(xy) for cell in cells for xy in cell.exterior.coords]
    ring = ring_with_nodes(outline_m.exterior, nodes)
    return round_coords(to_wgs84(Polygon(ring)))


def build_streets() -> tuple[list[Polygon], Polygon]:
    """The ten street polygons (lon/lat, rounded) and the rounded, noded district outline."""
    outline_m = scaled_outline_metric()
    seeds = [to_metric(Point(s.seed)) for s in STREETS]
    for street, seed in zip(STREETS, seeds, strict=True):
        if outline_m.exterior.distance(seed) < 200.0 or not outline_m.contains(seed):
            raise AssertionError(f"{street.name}: seed not well inside the outline")
    cells = voronoi_cells(outline_m, seeds)
    polygons = faces_by_street(noded_linework_wgs84(cells), cells)
    return polygons, noded_outline_wgs84(outline_m, cells)



# --------------------------------------------------------------------------- writing


def fmt(value: float) -> str:
    """A coordinate with exactly DECIMALS decimals."""
    return f"{value:.{DECIMALS}f}"


def ring_coords(ring: shapely.LinearRing) -> list[list[float]]:
    """A ring's coordinates as rounded [lon, lat] lists."""
    return [[round(x, DECIMALS), round(y, DECIMALS)] for x, y in ring.coords]


def feature_json(street: Street, polygon: Polygon) -> str:
    """One GeoJSON feature on one line."""
    feature = {
        "type": "Feature",
        "properties": {
            "code": street.code,
            "name": street.name,
            "name_en": street.name_en,
            "population": street.population,
            "source": BOUNDARY_SOURCE,
        },
        "geometry": {
            "type": "Polygon",
            "coordinates": [ring_coords(polygon.exterior)]
            + [ring_coords(r) for r in polygon.interiors],
        },
    }
    return json.dumps(feature, ensure_ascii=False, separators=(",", ":"))


def write_boundaries(path: Path, polygons: Sequence[Polygon]) -> None:
    """Write the streets as an RFC 7946 FeatureCollection, one feature a line, by code."""
    pairs = sorted(zip(STREETS, polygons, strict=True), key=lambda p: p[0].code)
    lines = ",\n".join(feature_json(s, p) for s, p in pairs)
    text = '{"type":"FeatureCollection","features":[\n' + lines + "\n]}\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")

