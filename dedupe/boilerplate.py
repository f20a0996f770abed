"""Boilerplate decisions from lexicons: site chrome, dangling labels, "read also" promos.

The lexicons are plain data handed in by the caller (from ``config/rules``).
"""

from __future__ import annotations

from dataclasses import dataclass

from dedupe.normalize import normalize


@dataclass(frozen=True)
class Lexicon:
    chrome_lines: frozenset[str]
    dangling_labels: frozenset[str]
    promo_prefixes: tuple[str, ...]

    @classmethod
    def build(
        cls, chrome_lines: frozenset[str], dangling_labels: frozenset[str], promo_prefixes: tuple[str, ...]
    ) -> Lexicon:
        return cls(
            chrome_lines=frozenset(normalize(x) for x in chrome_lines),
            dangling_labels=frozenset(normalize(x) for x in dangling_labels),
            promo_prefixes=tuple(p.casefold() for p in promo_prefixes),
        )


@dataclass(frozen=True)
class BoilerplateVerdict:
    reason: str  # site_chrome | dangling_label | promo
    matched: str


def classify(text: str, lexicon: Lexicon) -> BoilerplateVerdict | None:
    folded = normalize(text)
    if not folded:
        return BoilerplateVerdict("empty", "")
    if folded in lexicon.chrome_lines:
        return BoilerplateVerdict("site_chrome", folded)
    if folded in lexicon.dangling_labels:
        return BoilerplateVerdict("dangling_label", folded)
    lowered = text.strip().casefold()
    # One C-level test for the common case (no promo prefix); the loop only names the match.
    if not lowered.startswith(lexicon.promo_prefixes) or len(folded.split()) > 30:
        return None
    return BoilerplateVerdict("promo", next(p for p in lexicon.promo_prefixes if lowered.startswith(p)))
