"""Pure computation for the Changning coverage map, plus clearly named file I/O modules.

No streamlit, no folium, no network here.
"""
