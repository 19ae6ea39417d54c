"""The stored working dataset: one GeoPackage under the state directory, replaced as a whole.

``dataset.gpkg`` holds the layers ``streets`` and ``facilities`` (the data model, EPSG:4326)
and an ``about`` table with the origin of each part. A save writes a new file beside the old
one and moves it into place (``os.replace``), so a reader sees the old dataset or the new one,
never a mix, and a failed save leaves the old one as it was. Without the file, the dataset is
the embedded demo.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Collection
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from geo.data.dataset import Dataset, demo_dataset
from geo.data.io import read_demo
from geo.data.schema import BOUNDARY_COLUMNS, normalize_facilities
from geo.model.config import DATASET_FILE
from geo.model.errors import InputError
from geo.model.targets import Targets

__all__ = ["dataset_version", "read_dataset", "reset_dataset", "write_dataset"]

LAYERS = ("streets", "facilities", "about")


def dataset_version(path: str | Path = DATASET_FILE) -> tuple[int, int]:
    """A value that changes whenever the stored dataset does: (modification ns, size); (0, 0)
    when there is none (the demo)."""
    try:
        stat = Path(path).stat()
    except FileNotFoundError:
        return (0, 0)
    return (stat.st_mtime_ns, stat.st_size)


def _about(dataset: Dataset) -> pd.DataFrame:
    origins = {"boundaries": dataset.boundaries_origin,
               "facilities": {c: list(o) for c, o in dataset.facility_origins.items()}}
    return pd.DataFrame({"key": ["origins"], "value": [json.dumps(origins, ensure_ascii=False)]})


def write_dataset(dataset: Dataset, path: str | Path = DATASET_FILE) -> Path:
    """Store ``dataset`` at ``path`` as a whole, replacing what was there only once the new file
    is complete."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".gpkg", dir=path.parent)
    os.close(handle)
    os.unlink(temporary)  # GDAL creates the file itself
    try:
        dataset.streets[BOUNDARY_COLUMNS].to_file(temporary, layer="streets", driver="GPKG")
        dataset.facilities.to_file(temporary, layer="facilities", driver="GPKG")
        pyogrio.write_dataframe(_about(dataset), temporary, layer="about")
        with open(temporary, "rb") as written:
            os.fsync(written.fileno())
        os.replace(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)
    return path


def reset_dataset(path: str | Path = DATASET_FILE) -> None:
    """Go back to the embedded demo data (the stored dataset is removed)."""
    Path(path).unlink(missing_ok=True)


def _origins(about: pd.DataFrame) -> tuple[str, dict[str, tuple[str, ...]]]:
    value = json.loads(about.set_index("key").loc["origins", "value"])
    return value["boundaries"], {c: tuple(o) for c, o in value["facilities"].items()}


def read_dataset(targets: Targets, path: str | Path = DATASET_FILE, *,
                 known_categories: Collection[str] | None = None) -> Dataset:
    """The stored dataset, or the embedded demo when none is stored.

    Raises
    ------
    InputError
        Naming the file when it cannot be read (remove it to go back to the demo).
    """
    path = Path(path)
    if not path.exists():
        return demo_dataset(*read_demo(targets))
    try:
        layers = {name: pyogrio.read_dataframe(path, layer=name) for name in LAYERS}
        boundaries_origin, facility_origins = _origins(layers["about"])
    except Exception as exc:  # GDAL, JSON and key errors all mean a damaged file
        raise InputError(f"stored dataset {path}: cannot be read ({exc}); delete the file to go "
                         "back to the demo data") from exc
    streets = gpd.GeoDataFrame(layers["streets"], geometry="geometry")
    facilities = normalize_facilities(layers["facilities"],
                                      known_categories=known_categories or targets.keys(),
                                      source=f"stored dataset {path}", first_row=1,
                                      row_noun="feature")
    return Dataset(streets, facilities, boundaries_origin, facility_origins)
