"""Download Changning's street boundaries and facilities from OpenStreetMap (Overpass API).

For users with internet access: :func:`fetch_osm` asks an Overpass server for the 10 street/town
relations of Changning (:data:`CHANGNING_RELATIONS`) and for the points of interest inside them
whose tags map to the project's categories, and writes two files that
:func:`geo.data.io.read_boundaries` and :func:`geo.data.io.read_facility_file` read. Everything is
in WGS-84 (EPSG:4326) degrees, as OSM stores it. The data is © OpenStreetMap contributors, ODbL 1.0:
the files say so.

Network failures, Overpass errors and unusable replies raise :class:`FetchError`, whose message
names the URL and, for an HTTP error, the status. The HTTP client (:func:`fetch_overpass`, with
its retries) lives in :mod:`geo.data.osm_fetch_http` and is re-exported here; this module writes the
queries and turns the replies into boundaries and facilities.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry import LineString, MultiPolygon, Polygon

from geo.data.osm import OSM_CLASS_CATEGORIES
from geo.data.osm_fetch_http import OVERPASS_URL, FetchError, fetch_overpass
from geo.data.osm_walks import NETWORK_FILE, overpass_query_walks, walks_from_overpass
from geo.data.schema import FACILITY_COLUMNS
from geo.model.config import STORAGE_CRS

__all__ = [
    "BOUNDARIES_FILE",
    "CHANGNING_RELATIONS",
    "FACILITIES_FILE",
    "OSM_SOURCE",
    "OVERPASS_URL",
    "POI_TAGS",
    "FetchError",
    "OsmUnit",
    "boundaries_from_overpass",
    "fetch_osm",
    "fetch_overpass",
    "overpass_query_boundaries",
    "overpass_query_pois",
    "pois_from_overpass",
]

#: Credit written into every row.
OSM_SOURCE = "© OpenStreetMap contributors, ODbL 1.0 (Overpass)"
#: File names :func:`fetch_osm` writes into its output folder.
BOUNDARIES_FILE = "changning_streets_osm.geojson"
FACILITIES_FILE = "changning_facilities_osm.csv"
#: Server-side time limit of the queries, in seconds (the ``[timeout:…]`` setting).
QUERY_TIMEOUT_S = 120


class OsmUnit(NamedTuple):
    """One street/town unit: its OSM relation id, official 12-digit code and Chinese name."""

    relation_id: int
    code: str
    name: str


#: Changning's 9 streets (街道) and 1 town (镇) as OSM admin_level 8 relations.
CHANGNING_RELATIONS: tuple[OsmUnit, ...] = (
    OsmUnit(13469230, "310105001000", "华阳路街道"),
    OsmUnit(13469138, "310105002000", "江苏路街道"),
    OsmUnit(13469094, "310105004000", "新华路街道"),
    OsmUnit(13469231, "310105005000", "周家桥街道"),
    OsmUnit(13469232, "310105006000", "天山路街道"),
    OsmUnit(13469351, "310105008000", "仙霞新村街道"),
    OsmUnit(13469352, "310105009000", "虹桥街道"),
    OsmUnit(14184034, "310105010000", "程家桥街道"),
    OsmUnit(14184083, "310105011000", "北新泾街道"),
    OsmUnit(14184082, "310105102000", "新泾镇"),
)

#: OSM tags (key, value) fetched as facilities, in order of precedence when an element has
#: several; the value is the facility's ``subtype``.
POI_TAGS: tuple[tuple[str, str], ...] = (
    ("amenity", "marketplace"),
    ("shop", "greengrocer"),
    ("shop", "supermarket"),
    ("leisure", "pitch"),
    ("leisure", "sports_centre"),
    ("leisure", "swimming_pool"),
    ("leisure", "stadium"),
    ("amenity", "parking"),
    ("amenity", "charging_station"),
)
#: Tag value → facility category: the Geofabrik class mapping plus EV chargers.
TAG_CATEGORIES = {**OSM_CLASS_CATEGORIES, "charging_station": "charger"}
#: ``addr:*`` keys in the order an address is written (largest unit first); others follow.
ADDRESS_ORDER = ("addr:country", "addr:province", "addr:city", "addr:district",
                 "addr:subdistrict", "addr:street", "addr:place", "addr:housenumber",
                 "addr:housename", "addr:floor", "addr:unit", "addr:postcode")


# --- queries ------------------------------------------------------------------------------


def _id_list(relation_ids: Iterable[int]) -> str:
    ids = [int(i) for i in relation_ids]
    if not ids:
        raise ValueError("no relation ids given")
    return ",".join(map(str, ids))


def overpass_query_boundaries(relation_ids: Iterable[int]) -> str:
    """Overpass QL for the relations with their member ways' geometry (``out geom``).

    Parameters
    ----------
    relation_ids
        OSM relation ids, e.g. ``[u.relation_id for u in CHANGNING_RELATIONS]``.
    """
    return (f"[out:json][timeout:{QUERY_TIMEOUT_S}];\n"
            f"relation(id:{_id_list(relation_ids)});\n"
            "out geom;\n")


def overpass_query_pois(relation_ids: Iterable[int]) -> str:
    """Overpass QL for the nodes and ways with a :data:`POI_TAGS` tag inside the relations'
    areas; ways come with their ``center`` (``out center``), all in WGS-84.
    """
    lines = [f"[out:json][timeout:{QUERY_TIMEOUT_S}];",
             f"relation(id:{_id_list(relation_ids)});",
             "map_to_area->.units;",
             "("]
    lines += [f'  {kind}["{key}"="{value}"](area.units);'
              for key, value in POI_TAGS for kind in ("node", "way")]
    lines += [");", "out center;"]
    return "\n".join(lines) + "\n"


# --- boundaries ---------------------------------------------------------------------------


def _way_lines(relation: Mapping[str, Any], *, inner: bool) -> list[LineString]:
    """The relation's member ways of role ``inner`` (or of any other role) as lon/lat lines;
    members that are not ways are skipped."""
    lines = []
    for member in relation.get("members", []):
        if member.get("type") != "way" or (member.get("role") == "inner") != inner:
            continue
        coords = [(p["lon"], p["lat"]) for p in member.get("geometry") or [] if p]
        if len(coords) >= 2:  # a null point is a node outside a bbox filter
            lines.append(LineString(coords))
    return lines


def _ring_shells(lines: Sequence[LineString], *, label: str) -> list[Polygon]:
    """The closed rings stitched from ways, each as a polygon without holes; open ends fail."""
    if not lines:
        return []
    merged = shapely.line_merge(shapely.multilinestrings(lines))
    faces, cuts, dangles, invalid = shapely.polygonize_full(shapely.get_parts(merged))
    loose = [*shapely.get_parts(cuts), *shapely.get_parts(dangles), *shapely.get_parts(invalid)]
    if loose:
        x, y = loose[0].coords[0]
        raise FetchError(f"{label}: its ways do not close into rings "
                         f"({len(loose)} loose piece(s), e.g. at lon {x:.7f}, lat {y:.7f})")
    return [Polygon(face.exterior) for face in shapely.get_parts(faces)]


def _relation_geometry(relation: Mapping[str, Any], *, label: str) -> MultiPolygon:
    """The relation's area as a valid MultiPolygon.

    Outer and inner ways are stitched into rings separately (so rings of different roles may
    touch); the rings are then filled by the even-odd rule: an inner ring cuts a hole, an outer
    ring inside a hole is an island again.
    """
    shells = [*_ring_shells(_way_lines(relation, inner=False), label=label),
              *_ring_shells(_way_lines(relation, inner=True), label=label)]
    if not shells:
        raise FetchError(f"{label}: no member ways with geometry (was the query 'out geom'?)")
    area = shells[0]
    for shell in shells[1:]:
        area = area.symmetric_difference(shell)
    area = shapely.make_valid(area)
    polygons = [g for g in shapely.get_parts(area) if isinstance(g, Polygon) and not g.is_empty]
    if not polygons:
        raise FetchError(f"{label}: its rings enclose no area")
    return MultiPolygon(polygons)


def boundaries_from_overpass(
    data: Mapping[str, Any], *, units: Sequence[OsmUnit] = CHANGNING_RELATIONS
) -> gpd.GeoDataFrame:
    """Street boundaries from an ``out geom`` reply of relations, in EPSG:4326 (WGS-84).

    Each relation's member ways are stitched into rings (inner and outer alike; the even-odd
    rule makes holes). ``code`` and ``name`` come from ``units`` by relation id; a relation not
    in ``units`` gets its ``name`` tag and the code ``osm-<id>``. ``name_en`` is the
    ``name:en`` tag. Rows are in relation order of the reply.

    Returns
    -------
    geopandas.GeoDataFrame
        ``code``, ``name``, ``name_en``, ``osm_relation_id``, ``source`` and valid
        MultiPolygon ``geometry``, CRS EPSG:4326.

    Raises
    ------
    FetchError
        Naming the relation whose ways do not close into rings or that has no geometry.
    """
    known = {u.relation_id: u for u in units}
    rows, geometries = [], []
    for element in data.get("elements", []):
        if element.get("type") != "relation":
            continue
        rel_id, tags = int(element["id"]), element.get("tags") or {}
        unit = known.get(rel_id)
        rows.append({"code": unit.code if unit else f"osm-{rel_id}",
                     "name": unit.name if unit else tags.get("name", ""),
                     "name_en": tags.get("name:en", ""),
                     "osm_relation_id": rel_id,
                     "source": OSM_SOURCE})
        geometries.append(_relation_geometry(element, label=f"OSM relation {rel_id}"))
    columns = ["code", "name", "name_en", "osm_relation_id", "source"]
    return gpd.GeoDataFrame(pd.DataFrame(rows, columns=columns), geometry=geometries,
                            crs=STORAGE_CRS)


# --- facilities ---------------------------------------------------------------------------


def _matching_tag(tags: Mapping[str, str]) -> str | None:
    """The value of the first :data:`POI_TAGS` tag the element has, else None."""
    return next((value for key, value in POI_TAGS if tags.get(key) == value), None)


def _capacity(value: str | None) -> float:
    """The ``capacity`` tag as a number ≥ 0, NaN when absent or not a plain number."""
    try:
        number = float(str(value).strip())
    except (TypeError, ValueError):
        return math.nan
    return number if math.isfinite(number) and number >= 0 else math.nan


def _address(tags: Mapping[str, str]) -> str:
    """``addr:full``, else the ``addr:*`` tags joined, largest unit first."""
    if tags.get("addr:full", "").strip():
        return tags["addr:full"].strip()
    keys = [k for k in ADDRESS_ORDER if k in tags]
    keys += sorted(k for k in tags if k.startswith("addr:") and k not in ADDRESS_ORDER)
    return " ".join(tags[k].strip() for k in keys if tags[k].strip())


def _facility_row(element: Mapping[str, Any]) -> dict | None:
    """One element as a facilities row, or None when it has no wanted tag or no position."""
    tags = element.get("tags") or {}
    value = _matching_tag(tags)
    where = element if "lat" in element else element.get("center") or {}
    if value is None or "lat" not in where or "lon" not in where:
        return None
    kind, osm_id = element["type"], element["id"]
    name = next((tags[k].strip() for k in ("name", "name:zh") if tags.get(k, "").strip()), "")
    return {
        "id": f"osm-{kind}-{osm_id}",
        "name": name or f"{value} (OSM {kind} {osm_id})",
        "category": TAG_CATEGORIES[value],
        "subtype": value,
        "capacity": _capacity(tags.get("capacity")),
        "address": _address(tags),
        "lon": float(where["lon"]),
        "lat": float(where["lat"]),
        "crs": "wgs84",
        "status": "existing",
        "source": OSM_SOURCE,
    }


def pois_from_overpass(data: Mapping[str, Any]) -> gpd.GeoDataFrame:
    """Facilities from an ``out center`` reply of nodes and ways, in EPSG:4326 (WGS-84).

    Elements without a :data:`POI_TAGS` tag or without a position are skipped. ``id`` is
    ``osm-<type>-<id>``; an unnamed element is named after its tag value and id; ``category``
    follows :data:`TAG_CATEGORIES`; ``capacity`` is the numeric ``capacity`` tag, else NaN.

    Returns
    -------
    geopandas.GeoDataFrame
        The facility columns of :data:`geo.data.schema.FACILITY_COLUMNS` and point ``geometry``
        at ``lon``/``lat`` (node position or way centre), CRS EPSG:4326.
    """
    rows = [row for e in data.get("elements", []) if (row := _facility_row(e)) is not None]
    frame = pd.DataFrame(rows, columns=FACILITY_COLUMNS)
    frame["capacity"] = frame["capacity"].astype(float)
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame["lon"], frame["lat"]),
                            crs=STORAGE_CRS)


# --- files --------------------------------------------------------------------------------


def _check_complete(streets: gpd.GeoDataFrame, units: Sequence[OsmUnit], *, url: str) -> None:
    missing = sorted({u.relation_id for u in units} - set(streets["osm_relation_id"]))
    if missing:
        raise FetchError(f"Overpass at {url} returned no relation for id(s) "
                         f"{', '.join(map(str, missing))}")


def _inside(pois: gpd.GeoDataFrame, streets: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The POIs whose point lies in (or on) one of the streets: a way found by the area query
    may have its centre outside."""
    keep = shapely.intersects(pois.geometry.values, streets.union_all())
    return pois[keep].reset_index(drop=True)


def _write_facilities_csv(pois: gpd.GeoDataFrame, path: Path) -> None:
    """Write the facilities as CSV, UTF-8 with a BOM; capacity without a needless ``.0``."""
    table = pd.DataFrame(pois.drop(columns="geometry"))
    table["capacity"] = table["capacity"].map(lambda v: "" if math.isnan(v) else f"{v:g}")
    table.to_csv(path, index=False, encoding="utf-8-sig")


def fetch_osm(
    out_dir: Path,
    *,
    url: str = OVERPASS_URL,
    units: Sequence[OsmUnit] = CHANGNING_RELATIONS,
    network: bool = False,
    **options: Any,
) -> list[Path]:
    """Download the street boundaries and facilities of ``units`` and write them to ``out_dir``.

    Writes ``changning_streets_osm.geojson`` (street polygons, EPSG:4326) and
    ``changning_facilities_osm.csv`` (UTF-8 with BOM, lon/lat in WGS-84, ``crs`` wgs84), for
    :func:`geo.data.io.read_boundaries` and :func:`geo.data.io.read_facility_file`. Facilities whose
    point lies outside every street are dropped. Nothing is written unless both downloads
    succeed. ``out_dir`` is created when missing.

    Parameters
    ----------
    out_dir
        Folder for the two files (existing files are replaced).
    url
        The Overpass interpreter endpoint.
    units
        The relations to fetch, with their codes and names.
    network
        Also the walking network inside them, as a third file (see
        :func:`geo.data.osm_walks.fetch_walks`).
    **options
        Passed on to :func:`fetch_overpass` (``timeout``, ``retries``, ``backoff_s``, ``sleep``).

    Returns
    -------
    list of Path
        The boundaries file, then the facilities file (then the walking network's).

    Raises
    ------
    FetchError
        When a download fails, a relation is missing from the reply or has unusable geometry,
        or no facility was found.
    """
    ids = [u.relation_id for u in units]
    streets = boundaries_from_overpass(
        fetch_overpass(overpass_query_boundaries(ids), url=url, **options), units=units)
    _check_complete(streets, units, url=url)
    pois = pois_from_overpass(fetch_overpass(overpass_query_pois(ids), url=url, **options))
    pois = _inside(pois, streets)
    if pois.empty:
        raise FetchError(f"Overpass at {url} returned no facility inside the streets")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    boundaries_path, facilities_path = out_dir / BOUNDARIES_FILE, out_dir / FACILITIES_FILE
    walks = (walks_from_overpass(fetch_overpass(overpass_query_walks(ids), url=url, **options))
             if network else None)
    boundaries_path.unlink(missing_ok=True)
    streets.to_file(boundaries_path, driver="GeoJSON")
    _write_facilities_csv(pois, facilities_path)
    if walks is None:
        return [boundaries_path, facilities_path]
    network_path = out_dir / NETWORK_FILE
    network_path.unlink(missing_ok=True)
    walks.to_file(network_path, driver="GeoJSON")
    return [boundaries_path, facilities_path, network_path]
