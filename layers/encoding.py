"""Output encoding by context (house style point 14): the one place ``layers/`` escapes user text.

Which function for which context:

- :func:`html_text` — text or an attribute value inserted as HTML (a tooltip's content, a
  legend, a layer name or attribution that Leaflet sets as ``innerHTML``): ``html.escape``
  with quotes, backticks as ``&#96;`` (no user backtick reaches the page at all) and braces as
  ``&#123;``/``&#125;``; missing values become "".
- :func:`escaped_columns` — :func:`html_text` applied to whole text columns of a frame, for
  properties that a GeoJSON tooltip inserts as HTML.
- :func:`js_value` — any JSON-able value pasted into JavaScript (a script block, a function
  body, an inline handler): JSON, with ``<``, ``>``, ``&``, ``'``, backtick, braces and
  U+2028/U+2029 escaped so it cannot close the ``<script>`` element, start an HTML comment, end
  a JS string early or open a jinja expression.
  Text that JavaScript later inserts as HTML goes through :func:`html_text` first.
- :func:`class_token` — a CSS class name made from data (a category key): characters other
  than ASCII letters, digits, ``-`` and ``_`` become ``_``.

Both also escape ``{`` and ``}``: branca renders each element's script output again as a
jinja template, so ``{{ … }}`` in a name would otherwise run as jinja on the server (``{{7*7}}``
showed 49; with ``__globals__`` it reaches Python's builtins). Text inside JavaScript is never
pasted into a string or template literal by hand: folium templates get it through jinja's
``tojson`` filter after :func:`html_text`, which leaves no brace, quote or markup to escape.
"""

from __future__ import annotations

import html
import json
import re

import pandas as pd

__all__ = ["class_token", "escaped_columns", "html_text", "js_value"]

#: Characters escaped in JSON pasted into an HTML page's script: they could end the script
#: element (``</script>``), open a comment (``<!--``), end a template literal (backtick) or,
#: for U+2028/U+2029, end a line in older JavaScript engines; braces could open a jinja
#: expression when branca renders the output again.
_JS_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "'": "\\u0027",
               "`": "\\u0060", "{": "\\u007b", "}": "\\u007d", "\u2028": "\\u2028",
               "\u2029": "\\u2029"}
_JS_UNSAFE = re.compile("[<>&'`{}\u2028\u2029]")
#: A string literal in JSON text (outside them JSON has no character to escape).
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
#: Escapes beyond ``html.escape``: backtick (template literals) and braces (jinja).
_HTML_EXTRA = str.maketrans({"`": "&#96;", "{": "&#123;", "}": "&#125;"})
_CLASS_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def _missing(value: object) -> bool:
    """Whether ``value`` is None, NaN, NA or NaT (False for anything pandas cannot test)."""
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def html_text(value: object) -> str:
    """``value`` as HTML text, safe in element content and quoted attribute values.

    ``&``, ``<``, ``>``, ``"``, ``'``, the backtick and braces are escaped; None and NaN
    become "".
    """
    if _missing(value):
        return ""
    return html.escape(str(value), quote=True).translate(_HTML_EXTRA)


def escaped_columns(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """A copy of ``frame`` whose ``columns`` hold :func:`html_text` of their values."""
    out = frame.copy()
    for column in columns:
        out[column] = out[column].map(html_text).astype(object)
    return out


def js_value(value: object) -> str:
    """``value`` as a JavaScript literal (JSON) safe to paste into an HTML ``<script>``.

    ``<``, ``>``, ``&``, ``'``, backtick, braces, U+2028 and U+2029 are written as
    ``\\uXXXX`` escapes; other non-ASCII text is kept as it is (the page is UTF-8). Braces
    of the JSON structure itself (objects) are kept.
    """
    text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    return _JSON_STRING.sub(
        lambda string: _JS_UNSAFE.sub(lambda match: _JS_ESCAPES[match.group()], string.group()),
        text)


def class_token(text: str) -> str:
    """A CSS class name token from ``text``: ASCII letters, digits, ``-`` and ``_`` kept,
    anything else (spaces, quotes, markup) replaced by ``_``; "_" for empty text."""
    return _CLASS_UNSAFE.sub("_", str(text)) or "_"
