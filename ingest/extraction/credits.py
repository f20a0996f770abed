"""Photo credits at the end of a caption ("... in Tokyo. (AP Photo/Eugene Hoshiko)") as data."""

from __future__ import annotations

import re
from collections.abc import Sequence


class PhotoCredits:
    """Splits a caption into its text and its photo credit, with the patterns of ``config/rules``.

    Each pattern is searched at the end of the caption; its ``credit`` group is the credit. A
    match that would leave no caption text is ignored: a caption that is only a credit stays a
    caption (the caller decides what to do with it).
    """

    def __init__(self, patterns: Sequence[str]) -> None:
        self.patterns = [re.compile(p) for p in patterns]

    def split(self, text: str) -> tuple[str, str | None]:
        for pattern in self.patterns:
            match = pattern.search(text)
            if match is None or match.start() == 0:
                continue
            credit = (match.groupdict().get("credit") or match.group(0)).strip(" ()[],;.")
            rest = text[: match.start()].rstrip(" ,;–—-")
            if rest and credit:
                return rest, credit
        return text, None
