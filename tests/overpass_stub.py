"""A local stand-in for the Overpass API, for tests without internet.

:func:`serve_overpass` runs a :class:`~http.server.ThreadingHTTPServer` on 127.0.0.1 (a free
port) in a background thread. ``POST /api/interpreter`` with form field ``data`` answers like
Overpass: a boundaries query (``out geom``) gets :data:`BOUNDARIES_REPLY`, a POI query
(``out center``) gets :data:`POIS_REPLY`. Replies queued with :meth:`OverpassStub.queue` are
served first, one per request (429, 504, a slow reply, malformed JSON, …). Every request is
recorded.

The geometry is synthetic — small squares near 121.40°E 31.21°N in WGS-84 — authored here, not
OSM data. Only the relation ids are real (so the codes and names of
:data:`geo.data.osm_fetch.CHANGNING_RELATIONS` apply).
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = [
    "BAD_JSON",
    "BOUNDARIES_REPLY",
    "GATEWAY_TIMEOUT",
    "POIS_REPLY",
    "RELATION_A",
    "RELATION_B",
    "TOO_MANY_REQUESTS",
    "WALKS_REPLY",
    "OverpassStub",
    "Reply",
    "serve_overpass",
    "slow",
]

PATH = "/api/interpreter"
RELATION_A, RELATION_B = 13469230, 13469138  # 华阳路街道, 江苏路街道
_HEADER = {"version": 0.6, "generator": "overpass stub (tests)",
           "osm3s": {"copyright": "synthetic test data, not from OpenStreetMap"}}


def _way(ref: int, role: str, *lonlats: tuple[float, float]) -> dict:
    return {"type": "way", "ref": ref, "role": role,
            "geometry": [{"lat": lat, "lon": lon} for lon, lat in lonlats]}


# Relation A: the square 121.40–121.41 × 31.21–31.22 (outer ring in 3 ways, the middle one drawn
# backwards), with a hole 121.404–121.406 × 31.214–31.216 (inner ring in 2 ways).
_A_MEMBERS = [
    _way(101, "outer", (121.40, 31.21), (121.41, 31.21), (121.41, 31.215)),
    _way(102, "outer", (121.40, 31.22), (121.41, 31.22), (121.41, 31.215)),
    _way(103, "outer", (121.40, 31.22), (121.40, 31.21)),
    _way(111, "inner", (121.404, 31.214), (121.406, 31.214), (121.406, 31.216)),
    _way(112, "inner", (121.406, 31.216), (121.404, 31.216), (121.404, 31.214)),
    {"type": "node", "ref": 901, "role": "admin_centre", "lat": 31.212, "lon": 121.402},
]
# Relation B: the square 121.41–121.42 × 31.21–31.22 east of A, sharing A's east edge (in 2
# ways), plus a separate closed square 121.425–121.427 × 31.210–31.212 (one way).
_B_MEMBERS = [
    _way(201, "outer", (121.41, 31.215), (121.41, 31.21), (121.42, 31.21), (121.42, 31.22)),
    _way(202, "outer", (121.42, 31.22), (121.41, 31.22), (121.41, 31.215)),
    _way(203, "outer", (121.425, 31.21), (121.427, 31.21), (121.427, 31.212), (121.425, 31.212),
         (121.425, 31.21)),
]

BOUNDARIES_REPLY = {**_HEADER, "elements": [
    {"type": "relation", "id": RELATION_A, "members": _A_MEMBERS,
     "tags": {"admin_level": "8", "boundary": "administrative", "type": "boundary",
              "name": "华阳路街道", "name:en": "Huayanglu Subdistrict"}},
    {"type": "relation", "id": RELATION_B, "members": _B_MEMBERS,
     "tags": {"admin_level": "8", "boundary": "administrative", "type": "boundary",
              "name": "江苏路街道"}},
]}


def _node(osm_id: int, lon: float, lat: float, **tags: str) -> dict:
    return {"type": "node", "id": osm_id, "lat": lat, "lon": lon, "tags": tags}


def _centred_way(osm_id: int, lon: float, lat: float, **tags: str) -> dict:
    return {"type": "way", "id": osm_id, "center": {"lat": lat, "lon": lon},
            "nodes": [osm_id * 10 + i for i in range(4)], "tags": tags}


POIS_REPLY = {**_HEADER, "elements": [
    _node(1, 121.401, 31.211, amenity="marketplace", name="甲菜场",
          **{"addr:city": "上海市", "addr:street": "甲路", "addr:housenumber": "1号"}),
    _node(2, 121.402, 31.212, shop="greengrocer"),  # unnamed
    _centred_way(3, 121.403, 31.213, shop="supermarket", name="乙超市"),
    _centred_way(4, 121.412, 31.212, leisure="pitch", sport="basketball", name="篮球场"),
    _node(5, 121.413, 31.213, leisure="sports_centre", name="体育中心"),
    _centred_way(6, 121.414, 31.214, leisure="swimming_pool", name="游泳池"),
    _centred_way(7, 121.415, 31.215, leisure="stadium", name="体育场"),
    _centred_way(8, 121.408, 31.218, amenity="parking", name="停车场", capacity="120"),
    _node(9, 121.426, 31.211, amenity="charging_station", name="充电站", capacity="4"),
    _node(10, 121.409, 31.219, amenity="parking", capacity="lots"),  # unnamed, no number
    _node(11, 121.4095, 31.2195, amenity="cafe", name="不要的咖啡馆"),  # no wanted tag
    _centred_way(12, 121.50, 31.30, amenity="parking", name="区外停车场"),  # centre outside
]}


def _walk(osm_id: int, nodes: list[tuple[int, float, float]], **tags: str) -> dict:
    return {"type": "way", "id": osm_id, "nodes": [n for n, _, _ in nodes],
            "geometry": [{"lat": lat, "lon": lon} for _, lon, lat in nodes], "tags": tags}


# Ways in relation A: a street west–east along 31.212 through nodes 1–2–3, a footway north from
# node 2 bending at node 4 to node 5, a service road closed to walkers, an expressway.
WALKS_REPLY = {**_HEADER, "elements": [
    _walk(301, [(1, 121.401, 31.212), (2, 121.403, 31.212), (3, 121.408, 31.212)],
          highway="residential", name="甲路"),
    _walk(302, [(2, 121.403, 31.212), (4, 121.4035, 31.215), (5, 121.403, 31.218)],
          highway="footway"),
    _walk(303, [(3, 121.408, 31.212), (6, 121.408, 31.219)], highway="service",
          access="private"),
    _walk(304, [(7, 121.400, 31.219), (8, 121.409, 31.219)], highway="motorway",
          name="高架"),
]}


@dataclass(frozen=True)
class Reply:
    """A scripted answer: an HTTP status, a body (None: the normal answer), and a delay."""

    status: int = 200
    body: bytes | None = None
    delay_s: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


TOO_MANY_REQUESTS = Reply(429, b"<html><body><p>rate_limited: too many requests</p></body></html>")
GATEWAY_TIMEOUT = Reply(504, b"<html><body><p>The server is probably too busy.</p></body></html>")
BAD_JSON = Reply(200, b'{"version": 0.6, "elements": [{"type": "node", ')


def slow(delay_s: float) -> Reply:
    """The normal answer, sent only after ``delay_s`` seconds."""
    return Reply(delay_s=delay_s)


@dataclass
class OverpassStub:
    """The running stub: its ``url``, the ``requests`` received, and a queue of replies."""

    url: str = ""
    requests: list[dict] = field(default_factory=list)
    pending: list[Reply] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def queue(self, *replies: Reply) -> None:
        """Serve ``replies`` to the next requests, in order, before normal answers."""
        with self.lock:
            self.pending.extend(replies)

    def next_reply(self, query: str) -> tuple[int, bytes, float, dict[str, str]]:
        with self.lock:
            scripted = self.pending.pop(0) if self.pending else Reply()
        body = scripted.body if scripted.body is not None else _answer(query)
        status = scripted.status if body is not None else 400
        return status, body or b"unknown query", scripted.delay_s, scripted.headers


def _answer(query: str) -> bytes | None:
    if "out body geom" in query:
        return json.dumps(WALKS_REPLY, ensure_ascii=False).encode("utf-8")
    if "out geom" in query:
        return json.dumps(BOUNDARIES_REPLY, ensure_ascii=False).encode("utf-8")
    if "out center" in query:
        return json.dumps(POIS_REPLY, ensure_ascii=False).encode("utf-8")
    return None


def _handler(stub: OverpassStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            form = urllib.parse.parse_qs(raw.decode("utf-8"))
            query = form.get("data", [""])[0]
            with stub.lock:
                stub.requests.append({"path": self.path, "query": query,
                                      "content_type": self.headers.get("Content-Type", ""),
                                      "user_agent": self.headers.get("User-Agent", "")})
            if self.path != PATH:
                self._send(404, b"not found", {})
                return
            status, body, delay_s, headers = stub.next_reply(query)
            if delay_s and stub.stopping.wait(delay_s):
                return
            self._send(status, body, headers)

        def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            try:
                self.send_response(status)
                kind = "application/json" if body.startswith(b"{") else "text/html"
                self.send_header("Content-Type", f"{kind}; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)
            except OSError:  # the client gave up (timeout): nobody to answer
                pass

    return Handler


@contextmanager
def serve_overpass() -> Iterator[OverpassStub]:
    """Run the stub for the ``with`` block; yields it with ``url`` set to its interpreter."""
    stub = OverpassStub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(stub))
    server.daemon_threads = True
    stub.url = f"http://127.0.0.1:{server.server_address[1]}{PATH}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        stub.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
