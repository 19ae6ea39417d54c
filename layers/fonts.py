"""The CJK font that PNG maps and PDF reports draw Chinese text with, picked explicitly.

Without one, Chinese would come out as empty boxes; the caller gets :class:`MissingFontError`
with what to install instead.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

__all__ = ["CJK_FONT_CANDIDATES", "CjkFont", "MissingFontError", "cjk_font"]

#: Font files tried in order (Debian's fonts-noto-cjk first); ``CHANGNING_CJK_FONT`` overrides.
#: Each entry: path, face index in the collection (Simplified Chinese), bold variant.
CJK_FONT_CANDIDATES = (
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2,
     "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0, None),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0, None),
)
INSTALL_HINT = ("no CJK font found, so Chinese text would print as empty boxes: install Debian's "
                "fonts-noto-cjk (apt-get install fonts-noto-cjk) or point CHANGNING_CJK_FONT "
                "at a .ttf/.otf/.ttc font with Chinese glyphs")


class MissingFontError(RuntimeError):
    """No font with Chinese glyphs is available."""


@dataclass(frozen=True)
class CjkFont:
    """A font file with Chinese glyphs: ``index`` is the face in a collection (.ttc)."""

    path: Path
    index: int = 0
    bold: Path | None = None


@cache
def cjk_font() -> CjkFont:
    """The CJK font to use.

    Raises
    ------
    MissingFontError
        When none of the candidates (nor ``CHANGNING_CJK_FONT``) exists.
    """
    override = os.environ.get("CHANGNING_CJK_FONT")
    if override:
        if not Path(override).is_file():
            raise MissingFontError(f"CHANGNING_CJK_FONT={override}: no such file")
        return CjkFont(Path(override))
    for path, index, bold in CJK_FONT_CANDIDATES:
        if Path(path).is_file():
            return CjkFont(Path(path), index, Path(bold) if bold and Path(bold).is_file()
                           else None)
    raise MissingFontError(INSTALL_HINT)
