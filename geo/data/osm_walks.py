"""The walking network of OpenStreetMap, through the Overpass API (for users with internet):
the ways walkers may use inside the units, cut at the nodes where they meet, written as a file
of line edges that :func:`geo.data.network_io.read_network` reads.

Ways are walkable both ways; motorways and trunk roads (expressways), ways under
construction, and ways closed to walkers (``foot=no``, ``access=no|private`` without
``foot=yes``) are left out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
from shapely.geometry import LineString

from geo.data.osm_fetch_http import OVERPASS_URL, FetchError, fetch_overpass
from geo.model.config import STORAGE_CRS

__all__ = ["NETWORK_FILE", "fetch_walks", "overpass_query_walks", "walks_from_overpass"]

NETWORK_FILE = "changning_walk_osm.geojson"
QUERY_TIMEOUT_S = 180
#: Highways walkers may not use.
CLOSED_HIGHWAYS = ("motorway", "motorway_link", "trunk", "trunk_link", "construction",
                   "proposed", "raceway", "bus_guideway", "escape")


def overpass_query_walks(relation_ids: Iterable[int]) -> str:
    """Overpass QL for the walkable ways inside the relations' areas, with their node ids and
    geometry (``out body geom``), WGS-84."""
    ids = ",".join(str(int(i)) for i in relation_ids)
    if not ids:
        raise ValueError("no relation ids given")
    closed = "|".join(CLOSED_HIGHWAYS)
    return (f"[out:json][timeout:{QUERY_TIMEOUT_S}];\n"
            f"relation(id:{ids});\n"
            "map_to_area->.units;\n"
            f'way["highway"]["highway"!~"^({closed})$"]["foot"!="no"](area.units);\n'
            "out body geom;\n")


def _walkable(tags: Mapping[str, str]) -> bool:
    if tags.get("highway") in CLOSED_HIGHWAYS or tags.get("foot") == "no":
        return False
    return tags.get("access") not in ("no", "private") or tags.get("foot") in (
        "yes", "designated", "permissive")


def walks_from_overpass(data: Mapping[str, Any]) -> gpd.GeoDataFrame:
    """The reply's walkable ways cut into edges at the nodes where ways meet (and at their
    ends): LineStrings in EPSG:4326 with ``osm_way``, ``highway`` and ``name``.

    Raises
    ------
    FetchError
        When the reply holds no walkable way.
    """
    ways = [e for e in data.get("elements", []) if e.get("type") == "way"
            and len(e.get("nodes", [])) >= 2 and len(e.get("nodes", [])) == len(e.get(
                "geometry", [])) and _walkable(e.get("tags", {}))]
    uses = Counter(node for way in ways for node in set(way["nodes"]))
    rows = []
    for way in ways:
        nodes, points = way["nodes"], [(p["lon"], p["lat"]) for p in way["geometry"]]
        start = 0
        for i in range(1, len(nodes)):
            if i == len(nodes) - 1 or uses[nodes[i]] > 1:
                if len(set(points[start:i + 1])) >= 2:
                    tags = way.get("tags", {})
                    rows.append({"osm_way": int(way["id"]), "highway": tags.get("highway", ""),
                                 "name": tags.get("name", ""),
                                 "geometry": LineString(points[start:i + 1])})
                start = i
    if not rows:
        raise FetchError("the Overpass reply holds no walkable way")
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=STORAGE_CRS)


def fetch_walks(out_dir: Path, relation_ids: Iterable[int], *, url: str = OVERPASS_URL,
                **options: Any) -> Path:
    """Download the walkable ways inside the relations and write :data:`NETWORK_FILE` in
    ``out_dir``; its path. ``options`` go to :func:`fetch_overpass`.

    Raises
    ------
    FetchError
        When the download fails or holds no walkable way.
    """
    edges = walks_from_overpass(fetch_overpass(overpass_query_walks(relation_ids), url=url,
                                               **options))
    path = Path(out_dir) / NETWORK_FILE
    path.unlink(missing_ok=True)
    edges.to_file(path, driver="GeoJSON")
    return path
