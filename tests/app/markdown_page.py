"""A Streamlit page for the browser test of :func:`ui.widgets.as_text`: every string of the
Markdown corpus through every kind of element that renders Markdown, escaped — or, with
``?mode=raw``, as it is (the control: what the escaping prevents)."""

from __future__ import annotations

import streamlit as st

from tests.e2e import MARKDOWN_CORPUS
from ui.markdown import as_text

show = (lambda text: text) if st.query_params.get("mode") == "raw" else as_text
one_line = [text for text in MARKDOWN_CORPUS if "\n" not in text]

for text in MARKDOWN_CORPUS:
    st.error(show(text))
    st.warning(show(text))
    st.info(show(text))
    st.success(show(text))
    st.caption(show(text))
    st.markdown(show(text))
for number, text in enumerate(one_line):
    st.subheader(show(text), anchor=False)
    st.button(show(text), key=f"button_{number}")
    st.metric(show(text), number)
    with st.expander(show(text)):
        st.text(number)
st.radio("radio", [show(text) for text in one_line], key="radio")
st.tabs([show(text) for text in one_line])
