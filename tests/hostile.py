"""Hostile user text for the output-encoding tests: script and template injection, spreadsheet
formulas, mathtext, Unicode that breaks lines or turns text around, a very long name."""

from __future__ import annotations

#: Each entry is a name a user could import or type.
CORPUS = (
    "${alert(1)}",
    "`",
    "</script><script>alert(2)</script>",
    "\"'><img src=x onerror=alert(3)>",
    "=1+1",
    "+SUM(A1)",
    "-2+3",
    "@cmd",
    "\t=tab",
    "\r=cr",
    "$x^2$",
    "$",
    "a $\\frac{$ b",
    "{{7*7}}",
    "{nb} **bold** __u__",
    "line\u2028break",
    "\u202eevil.exe",
    "长宁" * 1000,
    "🏪 菜场",
    "#N/A",
)
#: The texts a spreadsheet would run as formulas, and how the exports write them.
FORMULAS = {
    "=1+1": "'=1+1",
    "+SUM(A1)": "'+SUM(A1)",
    "-2+3": "'-2+3",
    "@cmd": "'@cmd",
    "\t=tab": "'\t=tab",
    "\r=cr": "'\r=cr",
}


def as_html_text(text: str) -> str:
    """What the browser's HTML parser makes of ``text`` inserted as escaped HTML: carriage
    returns become line feeds (the HTML spec's input stream preprocessing)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")
