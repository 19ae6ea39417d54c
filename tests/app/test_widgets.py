"""ui.widgets.as_text: user text as Markdown that Streamlit shows literally (exact escapes), and
or_error/or_stop showing an InputError's message through it."""

from __future__ import annotations

import string

import pytest
from streamlit.testing.v1 import AppTest

from ui.markdown import as_text

WJ = "\u2060"  # word joiner
NBSP = "\u00a0"


@pytest.mark.parametrize(("text", "expected"), [
    ("![x](http://127.0.0.2:9/x.png)", rf"\!\[x\]\(http{WJ}\:\/\/127\.0\.0\.2\:9\/x\.png\)"),
    ("[link](http://x)", rf"\[link\]\(http{WJ}\:\/\/x\)"),
    (":red[red]", r"\:red\[red\]"),
    (":material/home:", r"\:material\/home\:"),
    ("$x^2$", r"\$x\^2\$"),
    ("**bold**", r"\*\*bold\*\*"),
    ("<img src=x onerror=alert(1)>", r"\<img src\=x onerror\=alert\(1\)\>"),
    ("# h", r"\# h"),
    ("- item", r"\- item"),
    ("`code`", r"\`code\`"),
    ("1. x", r"1\. x"),
    ("| a | b |", r"\| a \| b \|"),
    ("~~s~~ _u_", r"\~\~s\~\~ \_u\_"),
    ("&amp; &#58;", r"\&amp\; \&\#58\;"),
    ("a\\b", r"a\\b"),
    ("长宁区 新华路街道（示意）", "长宁区 新华路街道（示意）"),
    ("", ""),
])
def test_markdown_syntax_is_escaped(text, expected):
    assert as_text(text) == expected


def test_every_ascii_punctuation_character_is_escaped_and_nothing_else():
    punctuation = string.punctuation.replace("@", "")  # "@" gets a word joiner after it
    assert as_text(punctuation) == "".join("\\" + c for c in punctuation)
    plain = string.ascii_letters + string.digits + " 中文，。：（）"
    assert as_text(plain) == plain


@pytest.mark.parametrize(("text", "expected"), [
    ("see https://a.example/x", rf"see https{WJ}\:\/\/a\.example\/x"),
    ("HTTP://A.B", rf"HTTP{WJ}\:\/\/A\.B"),
    ("www.example.com", rf"www{WJ}\.example\.com"),
    ("a@b.com", rf"a\@{WJ}b\.com"),
    (":smile: :+1:", rf"\:{WJ}smile\: \:{WJ}\+1\:"),
])
def test_bare_links_and_emoji_codes_get_a_word_joiner(text, expected):
    assert as_text(text) == expected


def test_line_breaks_stay_and_indentation_cannot_make_a_code_block():
    assert as_text("a\nb") == "a  \nb"
    assert as_text("a\r\nb\rc") == "a  \nb  \nc"
    assert as_text("x: 2 problem(s)\n  - one\n\tb") == (
        f"x\\: 2 problem\\(s\\)  \n{NBSP * 2}\\- one  \n{NBSP * 4}b")
    assert as_text("    code?") == f"{NBSP * 4}code\\?"


def test_or_error_and_or_stop_show_the_message_escaped():
    def page() -> None:
        import streamlit as st

        from geo.model.errors import InputError
        from ui.widgets import or_error, or_stop

        def bad() -> None:
            raise InputError("file ![x](http://127.0.0.2:9/x.png).csv: column **a**")

        assert or_error(bad) is None
        or_stop(bad)
        st.write("not reached")

    at = AppTest.from_function(page).run()
    assert not at.exception
    expected = as_text("file ![x](http://127.0.0.2:9/x.png).csv: column **a**")
    assert [e.value for e in at.error] == [expected, expected]
    assert not at.markdown
