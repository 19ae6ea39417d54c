"""User text as Markdown that Streamlit shows literally: for ``st.error``, ``st.caption``,
``st.markdown``, widget labels and every other element that renders Markdown. Pure text, no
Streamlit."""

from __future__ import annotations

import re
import string

__all__ = ["LINE_BREAK", "NBSP", "WORD_JOINER", "as_text"]

#: Every ASCII punctuation character, each of which CommonMark lets a backslash escape.
_PUNCTUATION = re.compile(f"([{re.escape(string.punctuation)}])")
#: Spaces and tabs that start a line (kept as no-break spaces, so no line becomes a code block).
_INDENT = re.compile(r"^[ \t]+", flags=re.MULTILINE)
NBSP = "\u00a0"
#: U+2060 WORD JOINER: invisible, it keeps the renderer's text-node transforms from matching.
WORD_JOINER = "\u2060"
#: Where GitHub-flavoured Markdown would link bare text (``http://``, ``https://``, ``www.``,
#: ``name@host``: these transforms ignore backslash escapes) or turn ``:name:`` into an emoji.
_TEXT_LINKS = re.compile(r"(?i)(?<=http)(?=:)|(?<=https)(?=:)|(?<=www)(?=\.)|(?<=@)"
                         r"|(?<=:)(?=[\w+-]+:)")
#: A hard line break in Markdown.
LINE_BREAK = "  \n"


def as_text(text: str) -> str:
    """``text`` as Markdown that Streamlit shows literally, character for character.

    Every ASCII punctuation character is backslash-escaped (no links, images, emphasis,
    headings, lists, tables, ``:colour[…]``/``:material/…:`` directives or ``$`` maths); an
    invisible word joiner (U+2060) goes into ``http:``, ``https:``, ``www.``, after ``@`` and
    after the first colon of ``:name:``, which GitHub-flavoured Markdown would otherwise still
    turn into links and emoji; a line break stays a line break, and the spaces or tabs that
    start a line become no-break spaces (a tab four), so that no line turns into a code block.

    For every Markdown renderer: ``st.error``/``warning``/``info``/``success``, ``st.caption``,
    ``st.markdown``, headers, and the labels of widgets, tabs, expanders, metrics and buttons.
    """
    text = str(text).replace("\r\n", "\n").replace("\r", "\n")
    text = _TEXT_LINKS.sub(WORD_JOINER, text)
    text = _PUNCTUATION.sub(r"\\\1", text)
    text = _INDENT.sub(lambda m: m.group().replace("\t", NBSP * 4).replace(" ", NBSP), text)
    return text.replace("\n", LINE_BREAK)
