"""Pure computation for the Changning coverage map, plus clearly named file I/O modules.

No streamlit, no folium here. Four subpackages, each importing only those below it (an
import-linter contract in ``pyproject.toml`` keeps it so; the tests run it):

``geo.plan``
    The planning questions asked of a coverage result: gaps, scenarios, site suggestions,
    comparisons, tables, the seed review's figures, export frames.
``geo.data``
    Reading, checking, converting and storing: files, the importer, coordinate systems,
    geocoding, OpenStreetMap, the working dataset, the scenario store, export writers.
``geo.engine``
    The grid and the distances: H3 cells, the nearest facility (straight line or walked),
    single-facility edits, per-street sums, the dask engine.
``geo.model``
    What all of them share: paths and defaults, the one error type, the coverage targets.
"""

__all__ = ["data", "engine", "model", "plan"]
