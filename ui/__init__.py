"""Streamlit glue shared by app.py and the pages: cached loaders and session-state keys.

The one place besides app.py and pages/ that imports streamlit, so that no page repeats it.
"""
