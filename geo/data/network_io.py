"""Reading walking network files: GraphML (e.g. OSMnx's) or a vector file of line edges.

Everything that touches the file system for networks lives here; the network itself and the
distances along it are in :mod:`geo.engine.network`.
"""

from __future__ import annotations

import io
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geo.data.files import unpacked
from geo.engine.network import Segments, WalkingNetwork, build_network
from geo.model.config import METRIC_CRS, STORAGE_CRS
from geo.model.errors import InputError, raise_if_problems

__all__ = [
    "ENDPOINT_DECIMALS",
    "GRAPHML_SUFFIXES",
    "OSM_SUFFIXES",
    "VECTOR_SUFFIXES",
    "network_bytes",
    "network_from_bytes",
    "network_from_graph",
    "read_edges_file",
    "read_graphml",
    "read_network",
    "read_osm_xml",
]

GRAPHML_SUFFIXES = {".graphml", ".xml"}
OSM_SUFFIXES = {".osm"}
VECTOR_SUFFIXES = {".gpkg", ".geojson", ".json", ".shp", ".zip"}
#: The formats of :mod:`geo.data.files` an edges file may be in.
VECTOR_FORMATS = ("gpkg", "geojson", "shp")
#: Line endpoints of an edges file are rounded to this many decimals of a metre (UTM 51N) before
#: they are matched into nodes.
ENDPOINT_DECIMALS = 1
LENGTH_FIELDS = ("length", "length_m")
LINE_TYPES = {"LineString", "MultiLineString"}
WHAT = "walking network file"


def _shown(value: object) -> str:
    """``repr`` of a value as the file gave it (a numpy scalar as the plain Python one)."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def read_network(path: str | Path, *, crs: str | None = None) -> WalkingNetwork:
    """Read a walking network: GraphML (``.graphml``/``.xml``, e.g. OSMnx's), OpenStreetMap XML
    (``.osm``, through OSMnx: its walkable ways) or a GeoPackage, GeoJSON or Shapefile of line
    edges.

    Parameters
    ----------
    path
        The file.
    crs
        GraphML only: CRS of the nodes' ``x``/``y`` when the graph has no ``crs`` attribute
        (see :func:`read_graphml`).

    Raises
    ------
    InputError
        Naming the file and what is wrong with it.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{WHAT} {path}: no such file")
    suffix = path.suffix.lower()
    if suffix in GRAPHML_SUFFIXES:
        return read_graphml(path, crs=crs)
    if suffix in OSM_SUFFIXES:
        return read_osm_xml(path)
    if suffix in VECTOR_SUFFIXES:
        return read_edges_file(path)
    known = ", ".join(sorted(GRAPHML_SUFFIXES | OSM_SUFFIXES | VECTOR_SUFFIXES))
    raise InputError(f"{WHAT} {path}: unknown kind of file {suffix or '(no suffix)'!r}; "
                     f"expected one of {known}")


def read_graphml(path: str | Path, *, crs: str | None = None) -> WalkingNetwork:
    """Read a GraphML walking network, e.g. one saved by OSMnx.

    Nodes need ``x``/``y``; their CRS is ``crs`` when given, else the graph's ``crs``
    attribute (OSMnx writes one), else longitude/latitude (EPSG:4326). An edge's ``length``
    attribute (metres, as OSMnx writes it) is used when present, else the metric length of its
    ``geometry`` attribute (WKT in the nodes' CRS), else the straight line between its nodes.

    Raises
    ------
    InputError
        Unreadable XML, no nodes, no edges, a node without ``x``/``y``, numbers that are not
        numbers, an unknown CRS.
    """
    path = Path(path)
    source = f"{WHAT} {path}"
    if not path.is_file():
        raise InputError(f"{source}: no such file")
    try:
        graph = nx.read_graphml(path)
    except Exception as exc:  # ElementTree, networkx and type conversions raise several kinds
        raise InputError(f"{source}: cannot be read as GraphML ({_first_line(exc)})") from exc
    return network_from_graph(graph, crs=crs, source=source)


def read_osm_xml(path: str | Path) -> WalkingNetwork:
    """Read an OpenStreetMap XML file (``.osm``, as JOSM or the Overpass API save it) with
    OSMnx: its ways become edges walkable both ways, with OSMnx's lengths and geometries.

    Raises
    ------
    InputError
        Unreadable XML, or no ways that make a network.
    """
    path = Path(path)
    source = f"{WHAT} {path}"
    if not path.is_file():
        raise InputError(f"{source}: no such file")
    with path.open("rb") as handle:
        head = handle.read(512).lstrip()
    if not (head.startswith(b"<?xml") or head.startswith(b"<osm")) or b"<osm" not in head:
        raise InputError(f"{source}: the content is not OpenStreetMap XML (<osm …>)")
    import osmnx  # loads only for OSM XML

    try:
        graph = osmnx.graph_from_xml(path, bidirectional=True, simplify=True, retain_all=True)
    except Exception as exc:  # expat, OSMnx's own errors (e.g. no ways) and more
        raise InputError(f"{source}: cannot be read as OpenStreetMap XML "
                         f"({_first_line(exc)})") from exc
    return network_from_graph(graph, source=source)


def network_from_graph(graph: nx.Graph, *, crs: str | None = None,
                       source: str = "walking network graph") -> WalkingNetwork:
    """A :class:`~geo.engine.network.WalkingNetwork` from a networkx graph laid out as
    :func:`read_graphml` describes (directions and parallel edges are ignored)."""
    if not (crs or graph.graph.get("crs")):
        source = f"{source} (no crs attribute: x/y read as longitude/latitude)"
    crs = crs or graph.graph.get("crs") or STORAGE_CRS
    raise_if_problems(["no nodes"] if graph.number_of_nodes() == 0 else [], context=source)
    problems = []
    ids, xs, ys = [], [], []
    for node, data in graph.nodes(data=True):
        missing = [axis for axis in ("x", "y") if data.get(axis) in (None, "")]
        if missing:
            problems.append(f"node {node!r}: no {' and '.join(missing)}")
        ids.append(node)
        xs.append(data.get("x"))
        ys.append(data.get("y"))
    raise_if_problems(problems + (["no edges"] if graph.number_of_edges() == 0 else []),
                      context=source)
    nodes = pd.DataFrame({"id": pd.Series(ids, dtype=object), "x": xs, "y": ys})
    edges = pd.DataFrame(
        [(u, v, data.get("length"), data.get("geometry")) for u, v, data in
         graph.edges(data=True)],
        columns=["u", "v", "length", "geometry"], dtype=object)
    edges["geometry"] = _lines_from_wkt(edges, source=source)
    return build_network(nodes, edges, crs=crs, source=source)


def _lines_from_wkt(edges: pd.DataFrame, *, source: str) -> pd.Series:
    """The edges' ``geometry`` attributes (WKT, as OSMnx writes them) as shapely lines."""
    lines = pd.Series(None, index=edges.index, dtype=object)
    problems = []
    for row in np.flatnonzero(edges["geometry"].notna().to_numpy()):
        text = edges["geometry"].iloc[row]
        if isinstance(text, shapely.Geometry):
            lines.iloc[row] = text
            continue
        try:
            lines.iloc[row] = shapely.from_wkt(str(text))
        except shapely.errors.GEOSException:
            u, v = edges["u"].iloc[row], edges["v"].iloc[row]
            problems.append(f"edge {u!r}–{v!r}: geometry {str(text)[:40]!r} is not WKT")
    raise_if_problems(problems, context=source)
    return lines


def _edges_layer(path: Path) -> str | None:
    """The layer to read: ``edges`` when a file has several layers and one is so named (as
    OSMnx's GeoPackages do), else the first."""
    try:
        names = [str(name) for name, _ in pyogrio.list_layers(path)]
    except Exception:  # unreadable: let read_file say why
        return None
    return "edges" if len(names) > 1 and "edges" in names else None


def read_edges_file(path: str | Path, *, length_field: str | None = None) -> WalkingNetwork:
    """Read a walking network from a vector file of LineString edges (GeoPackage, GeoJSON or
    Shapefile; any defined CRS).

    Nodes are the edges' endpoints, matched after rounding to :data:`ENDPOINT_DECIMALS` decimals
    of a metre in UTM 51N; node ids are their positions. An edge's length is ``length_field``
    (default: a ``length`` or ``length_m`` column, metres) where given, else the line's length
    in metres. A MultiLineString counts as one edge a part, each measured.

    Raises
    ------
    InputError
        Unreadable file, no edges, no CRS, a geometry that is missing or not a line, a length
        that is not a number.
    """
    path = Path(path)
    source = f"{WHAT} {path}"
    if not path.is_file():
        raise InputError(f"{source}: no such file")
    # through the allow-list: content as the extension says (no VRT or GML named .geojson,
    # which GDAL would follow to local files or URLs), a zip's one dataset unpacked safely
    with unpacked(path, what=WHAT, label=str(path)) as (inner, fmt, _):
        if fmt not in VECTOR_FORMATS:
            raise InputError(f"{source}: holds {fmt.upper()}, not lines (GeoPackage, GeoJSON "
                             f"or Shapefile)")
        try:
            frame = gpd.read_file(inner, layer=_edges_layer(inner))
        except Exception as exc:  # pyogrio raises several types for unreadable files
            raise InputError(f"{source}: cannot be read as a vector file "
                             f"({_first_line(exc)})") from exc
    if length_field is None:
        length_field = next((f for f in LENGTH_FIELDS if f in frame.columns), None)
    elif length_field not in frame.columns:
        raise InputError(f"{source}: no {length_field!r} column")
    raise_if_problems(_edges_file_problems(frame), context=source)
    lines = frame.to_crs(METRIC_CRS)
    given = (pd.to_numeric(lines[length_field], errors="coerce") if length_field
             else pd.Series(np.nan, index=lines.index))
    if length_field:
        bad = (given.isna() & lines[length_field].notna()) | (given < 0)
        raise_if_problems([f"row {row}: {length_field} {_shown(lines[length_field].iloc[row])} "
                           "is not a number of metres ≥ 0" for row in np.flatnonzero(bad)],
                          context=source)
    parts = lines.geometry.to_numpy()
    counts = shapely.get_num_geometries(parts)
    given = np.where(counts == 1, given.to_numpy(dtype=float), np.nan)
    given = np.repeat(given, counts)
    parts = shapely.get_parts(parts)
    ends = np.concatenate([shapely.get_coordinates(shapely.get_point(parts, 0)),
                           shapely.get_coordinates(shapely.get_point(parts, -1))])
    node_xy, which = np.unique(np.round(ends, ENDPOINT_DECIMALS), axis=0, return_inverse=True)
    which = which.reshape(-1)
    nodes = pd.DataFrame({"id": np.arange(len(node_xy)), "x": node_xy[:, 0], "y": node_xy[:, 1]})
    edges = pd.DataFrame({"u": which[:len(parts)], "v": which[len(parts):], "length": given,
                          "geometry": pd.Series(parts, dtype=object)})
    return build_network(nodes, edges, crs=METRIC_CRS, source=source)


def _edges_file_problems(frame: gpd.GeoDataFrame) -> list[str]:
    if len(frame) == 0:
        return ["no edges"]
    problems = []
    if frame.crs is None:
        problems.append("no CRS: cannot measure the edges in metres")
    geometry = frame.geometry
    for row in np.flatnonzero((geometry.isna() | geometry.is_empty).to_numpy()).tolist():
        problems.append(f"row {row}: no geometry")
    types = geometry.geom_type
    wrong = types.notna() & ~types.isin(LINE_TYPES) & ~geometry.is_empty
    for row in np.flatnonzero(wrong.to_numpy()).tolist():
        problems.append(f"row {row}: geometry is a {types.iloc[row]}, not a LineString")
    return problems


#: The arrays a stored network is made of (see :func:`network_bytes`).
_STORED = ("node_ids", "xy", "edge_u", "edge_v", "edge_length", "seg_a", "seg_b", "seg_edge",
           "seg_start", "line_length", "max_snap_m")


def network_bytes(network: WalkingNetwork) -> bytes:
    """``network`` as bytes to store (numpy arrays in an ``.npz``, nothing pickled)."""
    pieces = network.segments
    buffer = io.BytesIO()
    np.savez(buffer, node_ids=np.asarray(network.node_ids).astype(str), xy=network.xy,
             edge_u=network.edge_u, edge_v=network.edge_v, edge_length=network.edge_length,
             seg_a=pieces.a, seg_b=pieces.b, seg_edge=pieces.edge, seg_start=pieces.start,
             line_length=pieces.line_length, max_snap_m=np.array(network.max_snap_m))
    return buffer.getvalue()


def network_from_bytes(data: bytes, *, source: str = "stored walking network") -> WalkingNetwork:
    """The network :func:`network_bytes` stored.

    Raises
    ------
    InputError
        When the bytes are not such a network.
    """
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            stored = {name: arrays[name] for name in _STORED}
    except Exception as exc:  # zip, format and key errors all mean damaged data
        raise InputError(f"{source}: cannot be read ({type(exc).__name__}: {exc})") from None
    return WalkingNetwork(
        node_ids=stored["node_ids"], xy=stored["xy"], edge_u=stored["edge_u"],
        edge_v=stored["edge_v"], edge_length=stored["edge_length"],
        segments=Segments(a=stored["seg_a"], b=stored["seg_b"], edge=stored["seg_edge"],
                          start=stored["seg_start"], line_length=stored["line_length"]),
        max_snap_m=float(stored["max_snap_m"]))
