"""In Chromium: user text escaped with ui.widgets.as_text shows literally in every kind of
Streamlit element that renders Markdown — no image fetched, no link, no colour, icon, maths or
emphasis, no dialog — while the same text unescaped (the control) does fetch the image."""

from __future__ import annotations

import pytest

from tests.conftest import ROOT
from tests.e2e import CHROMIUM, IMAGE_HOST, MARKDOWN_CORPUS, streamlit_app, wait_idle

pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} absent: install Debian's chromium (.ci/run does)",
                allow_module_level=True)

SCRIPT = ROOT / "tests" / "app" / "markdown_page.py"
ONE_LINE = [text for text in MARKDOWN_CORPUS if "\n" not in text]
#: Element → the corpus strings markdown_page.py shows in it, in order.
SHOWN = {
    '[data-testid="stAlertContentError"]': list(MARKDOWN_CORPUS),
    '[data-testid="stAlertContentWarning"]': list(MARKDOWN_CORPUS),
    '[data-testid="stAlertContentInfo"]': list(MARKDOWN_CORPUS),
    '[data-testid="stAlertContentSuccess"]': list(MARKDOWN_CORPUS),
    '[data-testid="stCaptionContainer"]': list(MARKDOWN_CORPUS),
    # st.caption and st.markdown are both stMarkdown
    '[data-testid="stMarkdown"]': [text for text in MARKDOWN_CORPUS for _ in "cm"],
    '[data-testid="stHeading"]': ONE_LINE,
    '[data-testid="stButton"] button': ONE_LINE,
    '[data-testid="stMetricLabel"]': ONE_LINE,
    '[data-testid="stExpander"] summary [data-testid="stMarkdownContainer"]': ONE_LINE,
    '[data-testid="stRadioOption"]': ONE_LINE,
    '[data-testid="stTab"]': ONE_LINE,
}
WORD_JOINER, NBSP = "\u2060", "\u00a0"


@pytest.fixture(scope="module")
def page_url():
    with streamlit_app(script=SCRIPT) as url:
        yield url


def _shown(page, selector: str) -> list[str]:
    """The text of each element, as a reader sees it (the invisible word joiner left out)."""
    return [text.replace(WORD_JOINER, "").replace(NBSP, " ")
            for text in page.locator(selector).all_inner_texts()]


def test_escaped_user_text_shows_literally_and_fetches_nothing(page, page_url):
    page.goto(f"{page_url}/")
    wait_idle(page)
    page.wait_for_timeout(1000)  # time for any image request to go out
    for selector, expected in SHOWN.items():
        assert _shown(page, selector) == expected, selector
    main = page.get_by_test_id("stMain")
    assert main.locator("a, img, .katex, h1, ul, ol, li, code, strong, em").count() == 0
    assert main.locator('[data-testid="stIconMaterial"]').count() == len(ONE_LINE)  # expanders
    assert page.problems["outside"] == []
    assert page.problems["dialogs"] == [] and page.problems["console"] == []


def test_the_same_text_unescaped_does_fetch_the_image(page, page_url):
    """The control: the checks above can see what the escaping prevents."""
    page.goto(f"{page_url}/?mode=raw")
    wait_idle(page)
    page.wait_for_timeout(1000)
    assert f"http://{IMAGE_HOST}:9/x.png" in page.problems["outside"]
    assert page.get_by_test_id("stMain").locator("a, .katex, strong").count() > 0
    assert page.problems["dialogs"] == []  # Streamlit escapes raw HTML itself
