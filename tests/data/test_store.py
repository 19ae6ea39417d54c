"""The scenario store: round trips, errors, restarts, concurrent writers and killed writers."""

from __future__ import annotations

import itertools
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import geo.data.store
from geo.data.store import MAX_NAME_LENGTH, ScenarioStore, StoredScenario, StoreError
from geo.model.errors import InputError
from tests.conftest import ROOT, who

WORKERS = 8
SAVES_PER_WORKER = 50
KILL_ROUNDS = 3
#: Features in a big body of the kill test; about 3 MB of JSON.
BIG_FEATURES = 20_000
#: Who saves and deletes in these tests: an administrator, whom every scenario is open to.
ADMIN = who()

BODY = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"name": "长宁区新华路街道", "note": "菜市场 → 社区食堂",
                           "tags": ["甲", "乙"]},
            "geometry": {"type": "Polygon",
                         "coordinates": [[[121.41, 31.2], [121.42, 31.2], [121.42, 31.21],
                                          [121.41, 31.2]]]},
        }
    ],
    "meta": {"radius_m": 300, "nested": [[1, 2], [3, [4.5, None, True]]]},
}

# A worker of the concurrency test: says "ready", waits for "go" on stdin, then saves.
CONCURRENT_WORKER = """
import sys
sys.path.insert(0, {root!r})
from geo.data.store import ScenarioStore
from geo.model.access import Principal
P = Principal("w", "admin")
worker, path, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
store = ScenarioStore(path)
print("ready", flush=True)
sys.stdin.readline()
for i in range(count):
    store.save(P, name=f"w{{worker}}-{{i}}", body={{"worker": worker, "i": i, "text": "长宁" * i}})
"""

# A writer of the kill test: saves a known scenario, says "ready", then writes big bodies
# forever, alternating new rows, updates and deletes, until it is killed.
KILLED_WRITER = """
import sys
sys.path.insert(0, {root!r})
from geo.data.store import ScenarioStore
from geo.model.access import Principal
P = Principal("w", "admin")
path, round_no, features = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
store = ScenarioStore(path)
store.save(P, name=f"known-{{round_no}}", body={{"round": round_no, "known": True}})
print("ready", flush=True)

def big(i):
    return {{"type": "FeatureCollection", "i": i, "features": [
        {{"type": "Feature", "properties": {{"k": k, "i": i, "label": "长宁区" * 5}},
         "geometry": {{"type": "Point", "coordinates": [121.4 + k * 1e-6, 31.2]}}}}
        for k in range(features)]}}

current, i = None, 0
while True:
    if i % 2 == 0:
        previous = current
        current = store.save(P, name=f"big-{{round_no}}-{{i}}", body=big(i))
        if previous is not None:
            store.delete(P, previous.id, revision=previous.revision)
    else:
        current = store.save(P, name=f"big-{{round_no}}-{{i}}", body=big(i),
                             scenario_id=current.id, revision=current.revision)
    i += 1
"""


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "state" / "scenarios.sqlite"


@pytest.fixture
def store(db: Path) -> ScenarioStore:
    return ScenarioStore(db)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Timestamps the store will use, one a write, in order."""
    times: list[str] = []
    monkeypatch.setattr(geo.data.store, "_utc_now", lambda: times.pop(0))
    return times


# -- round trips ---------------------------------------------------------------------------


def test_creates_folder_schema_and_wal(db: Path, store: ScenarioStore) -> None:
    assert db.is_file()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        columns = [row[1] for row in conn.execute("PRAGMA table_info(scenarios)")]
    assert columns == ["id", "name", "description", "body", "created_at", "updated_at",
                       "owner", "streets", "revision", "updated_by", "owner_role"]
    assert store.list() == []
    store.check()


def test_save_load_round_trip(store: ScenarioStore) -> None:
    sid = store.save(ADMIN, name="  新华路 plan  ", description="两个菜市场\nsecond line",
                     body=BODY).id
    loaded = store.load(sid)
    assert isinstance(loaded, StoredScenario)
    assert loaded.id == sid
    assert loaded.name == "新华路 plan"
    assert loaded.description == "两个菜市场\nsecond line"
    assert loaded.body == BODY
    assert loaded.created_at == loaded.updated_at
    assert loaded.created_at.endswith("+00:00") and len(loaded.created_at) == 25


def test_list_newest_first_then_id(store: ScenarioStore, clock: list[str]) -> None:
    clock.extend(["2024-01-01T00:00:00+00:00", "2024-01-03T00:00:00+00:00",
                  "2024-01-03T00:00:00+00:00", "2024-01-02T00:00:00+00:00"])
    a = store.save(ADMIN, name="a", body={}).id
    b = store.save(ADMIN, name="b", body={}).id
    c = store.save(ADMIN, name="c", body={}).id
    d = store.save(ADMIN, name="d", body={}).id
    assert [s.id for s in store.list()] == [c, b, d, a]


def test_update_keeps_created_at(store: ScenarioStore, clock: list[str]) -> None:
    clock.extend(["2024-01-01T08:00:00+00:00", "2024-02-01T09:30:00+00:00"])
    first = store.save(ADMIN, name="first", description="d1", body={"v": 1})
    sid = first.id
    assert store.save(ADMIN, name="second", description="d2", body={"v": [2]}, scenario_id=sid,
                      revision=first.revision).id == sid
    loaded = store.load(sid)
    assert (loaded.name, loaded.description, loaded.body) == ("second", "d2", {"v": [2]})
    assert loaded.created_at == "2024-01-01T08:00:00+00:00"
    assert loaded.updated_at == "2024-02-01T09:30:00+00:00"
    assert len(store.list()) == 1


def test_delete_and_find(store: ScenarioStore) -> None:
    one = store.save(ADMIN, name="same", body={"n": 1}).id
    two = store.save(ADMIN, name="same", body={"n": 2}).id
    other = store.save(ADMIN, name="other", body={"n": 3}).id
    assert {s.id for s in store.find("same")} == {one, two}
    assert store.find("sam") == []
    store.delete(ADMIN, one, revision=1)
    assert [s.id for s in store.find("same")] == [two]
    assert {s.id for s in store.list()} == {two, other}
    with pytest.raises(InputError, match=f"no saved scenario with id {one}"):
        store.load(one)


def test_path_like_names_are_only_text(tmp_path: Path) -> None:
    db = tmp_path / "deep" / "er" / "scenarios.sqlite"
    store = ScenarioStore(db)
    names = ["../../etc/passwd", 'a/b\\c:*?"<>|', "/tmp/x.sqlite", "..", "nul", "con.txt"]
    ids = [store.save(ADMIN, name=name, body={"name": name}).id for name in names]
    assert [store.load(sid).name for sid in ids] == names
    assert [s.name for s in store.find("../../etc/passwd")] == ["../../etc/passwd"]
    allowed = {db.name, f"{db.name}-wal", f"{db.name}-shm"}
    files = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    assert {Path(f).name for f in files} <= allowed
    assert all(f.startswith("deep/er/") for f in files)
    assert not (tmp_path / "etc").exists() and not (db.parent / "a").exists()


def test_survives_restart(db: Path) -> None:
    first = ScenarioStore(db)
    sid = first.save(ADMIN, name="kept", body=BODY).id
    del first
    second = ScenarioStore(db)
    assert second.load(sid).body == BODY
    assert [s.name for s in second.list()] == ["kept"]


def test_threads_share_one_store(store: ScenarioStore) -> None:
    def work(t: int) -> None:
        for i in range(25):
            store.save(ADMIN, name=f"t{t}-{i}", body={"t": t, "i": i})

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(s.name for s in store.list()) == sorted(
        f"t{t}-{i}" for t in range(4) for i in range(25))


# -- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "pattern"),
    [
        ({"name": ""}, "name is empty"),
        ({"name": "   \t\n"}, "name is empty"),
        ({"name": "x" * (MAX_NAME_LENGTH + 1)}, f"name is {MAX_NAME_LENGTH + 1} characters"),
        ({"name": None}, "name must be text"),
        ({"body": {"x": object()}}, "body is not JSON-serialisable"),
        ({"body": {"x": float("nan")}}, "body is not JSON-serialisable"),
        ({"body": ["not", "a", "dict"]}, "body must be a dict"),
        ({"description": 3}, "description must be text"),
        ({"name": "a\ud800"}, r"name is not valid Unicode text \(a lone surrogate at character 2"),
        ({"description": "\udfff"}, "description is not valid Unicode text"),
        ({"body": {"x": "\ud800"}}, "body is not valid Unicode text"),
    ],
)
def test_bad_fields(store: ScenarioStore, fields: dict, pattern: str) -> None:
    kwargs = {"name": "ok", "body": {"a": 1}, **fields}
    with pytest.raises(InputError, match=pattern):
        store.save(ADMIN, **kwargs)
    assert store.list() == []


def test_longest_name_is_accepted(store: ScenarioStore) -> None:
    sid = store.save(ADMIN, name="长" * MAX_NAME_LENGTH, body={}).id
    assert store.load(sid).name == "长" * MAX_NAME_LENGTH


def test_several_problems_in_one_message(store: ScenarioStore) -> None:
    with pytest.raises(InputError, match=r"2 problem\(s\)(?s:.*)name is empty.*\n.*body"):
        store.save(ADMIN, name="", body={"x": {1, 2}})


def test_unknown_ids(store: ScenarioStore) -> None:
    sid = store.save(ADMIN, name="exists", body={"v": 1}).id
    with pytest.raises(InputError, match="no saved scenario with id 999"):
        store.load(999)
    with pytest.raises(InputError, match="no saved scenario with id 999"):
        store.save(ADMIN, name="new", body={"v": 2}, scenario_id=999, revision=1)
    with pytest.raises(InputError, match="no saved scenario with id 999"):
        store.delete(ADMIN, 999, revision=1)
    assert [(s.id, s.body) for s in store.list()] == [(sid, {"v": 1})]


def test_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite"
    path.write_text("this is a text file, not a database\n" * 200, encoding="utf-8")
    with pytest.raises(StoreError, match=re.escape(str(path))):
        ScenarioStore(path)


def test_file_replaced_after_opening(tmp_path: Path) -> None:
    path = tmp_path / "scenarios.sqlite"
    store = ScenarioStore(path)
    store.save(ADMIN, name="x", body={})
    path.write_text("overwritten by something else\n" * 200, encoding="utf-8")
    for call in (store.list, store.check, lambda: store.load(1)):
        with pytest.raises(StoreError, match=re.escape(str(path))):
            call()


def test_damaged_body_is_a_store_error(store: ScenarioStore, db: Path) -> None:
    sid = store.save(ADMIN, name="x", body={"a": 1}).id
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE scenarios SET body = '{\"a\": ' WHERE id = ?", (sid,))
    with pytest.raises(StoreError, match=f"scenario {sid} has a damaged body"):
        store.load(sid)


# -- many processes ------------------------------------------------------------------------


def _spawn(script: str, *args: object, stdin: int | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", script.format(root=str(ROOT)), *map(str, args)],
        cwd=ROOT, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def test_eight_processes_save_at_once(db: Path) -> None:
    ScenarioStore(db)
    workers = [_spawn(CONCURRENT_WORKER, w, db, SAVES_PER_WORKER, stdin=subprocess.PIPE)
               for w in range(WORKERS)]
    try:
        for proc in workers:  # the start barrier: every worker has opened the store
            assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        for proc in workers:
            proc.stdin.write("go\n")
            proc.stdin.flush()
        for proc in workers:
            _, err = proc.communicate(timeout=60)
            assert proc.returncode == 0, err
    finally:
        for proc in workers:
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    store = ScenarioStore(db)
    store.check()
    saved = store.list()
    assert len(saved) == WORKERS * SAVES_PER_WORKER
    seen = [(s.body["worker"], s.body["i"]) for s in saved]
    assert sorted(seen) == [(w, i) for w in range(WORKERS) for i in range(SAVES_PER_WORKER)]
    for s in saved:
        assert s.name == f"w{s.body['worker']}-{s.body['i']}"
        assert s.body["text"] == "长宁" * s.body["i"]
    by_id = [s.body["worker"] for s in sorted(saved, key=lambda s: s.id)]
    switches = sum(a != b for a, b in itertools.pairwise(by_id))
    assert switches > WORKERS - 1, "the workers ran one after another, not at once"
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM scenarios").fetchone()[0] == 400
        for (body,) in conn.execute("SELECT body FROM scenarios"):
            json.loads(body)


# -- killed writers ------------------------------------------------------------------------


def _assert_big_body(name: str, body: dict) -> None:
    i = int(name.rsplit("-", 1)[1])
    assert body["type"] == "FeatureCollection" and body["i"] == i
    features = body["features"]
    assert len(features) == BIG_FEATURES
    assert [f["properties"]["k"] for f in features] == list(range(BIG_FEATURES))
    assert all(f["properties"]["i"] == i for f in features)
    assert features[-1]["geometry"]["coordinates"][1] == 31.2


def test_killed_mid_save_leaves_a_sound_store(db: Path) -> None:
    ScenarioStore(db)
    for round_no in range(KILL_ROUNDS):
        proc = _spawn(KILLED_WRITER, db, round_no, BIG_FEATURES)
        try:
            line = proc.stdout.readline().strip()
            assert line == "ready", proc.stderr.read()
            time.sleep(0.5 + 0.2 * round_no)
            assert proc.poll() is None, proc.stderr.read()
        finally:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        assert proc.returncode == -signal.SIGKILL

        store = ScenarioStore(db)
        store.check()
        for known in range(round_no + 1):
            assert [s.body for s in store.find(f"known-{known}")] == [
                {"round": known, "known": True}]
        big = [s for s in store.list() if s.name.startswith("big-")]
        assert any(s.name.startswith(f"big-{round_no}-") for s in big), "no big body saved"
        for s in big:
            _assert_big_body(s.name, s.body)
        sid = store.save(ADMIN, name=f"after-{round_no}", body={"after": round_no}).id
        assert store.load(sid).body == {"after": round_no}
