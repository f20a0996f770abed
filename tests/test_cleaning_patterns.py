"""The cleaner's line recognisers tried as one alternation answer as the patterns tried one by one."""

from __future__ import annotations

import re

from config import CONFIG_DIR, load_cleaning_rules
from ingest.cleaning import Cleaner, _any_match
from tests.conftest import CORPUS


def _lines() -> list[str]:
    lines = [
        "(ab/cd)", "Copyright 2024 VOA", "All rights reserved.", "By Jane Doe", "jane doe jane@example.com",
        "Some information for this report came from The Associated Press and Reuters.",
        "Reporting by Ann Smith; Editing by Bob Jones", "Beberapa informasi untuk laporan ini berasal dari AFP.",
        "avec l'AFP", "Mit Material von dpa", "con información de EFE", "(ANT)", "BY JOHN SMITH",
    ]  # fmt: skip
    for path in sorted((CORPUS / "pages").glob("*.expected.txt")):
        lines += [line.strip() for line in path.read_text(encoding="utf-8", errors="replace").splitlines()]
    return [line for line in lines if line]


def test_one_alternation_answers_as_each_pattern_in_turn() -> None:
    cleaner = Cleaner(load_cleaning_rules(CONFIG_DIR / "rules"))
    lists = [cleaner._trailer_patterns, cleaner._byline_patterns, cleaner._credit_patterns]
    lists += [[*cleaner._credit_patterns, *site] for site in cleaner._site_credit_patterns.values()]
    lines = _lines()
    hits = 0
    for patterns in lists:
        combined = _any_match(patterns)
        for line in lines:
            expected = any(p.match(line) for p in patterns)
            assert combined(line) == expected, (line, [p.pattern for p in patterns])
            hits += expected
    assert hits > 10


def test_patterns_that_cannot_be_joined_are_tried_one_by_one() -> None:
    clashing = [re.compile(r"(?P<a>x)y", re.IGNORECASE), re.compile(r"(?P<a>z)", re.IGNORECASE)]
    mixed = [re.compile("abc"), re.compile("def", re.IGNORECASE)]
    assert _any_match(clashing)("zq") and not _any_match(clashing)("q")
    assert not _any_match(mixed)("ABC") and _any_match(mixed)("DEF") and _any_match(mixed)("abc")
    assert not _any_match([])("anything")
