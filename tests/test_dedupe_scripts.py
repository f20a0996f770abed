"""Every script VOA publishes in: tokens, normal forms and near copies, on real corpus text.

Unspaced scripts (Chinese, Japanese, Korean, Thai, Burmese) are shingled by grapheme; Arabic
script and Cyrillic fold their keyboard and spelling variants. The corpus holds no Khmer, Lao or
Tibetan text; those scripts are checked on a few common words instead.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import numpy as np
import pytest

from benchmarks.corpus_bodies import Corpus
from dedupe.lsh import BandIndex, LshParams
from dedupe.near import NearBlock, NearRule
from dedupe.normalize import is_unspaced, norm_hash, normalize, tokens
from dedupe.signatures import Signer

PAGES = {
    "ar": "newspaper4k__arabic_article.expected.txt",
    "my": "newspaper4k__burmese_article.expected.txt",
    "th": "newspaper4k__thai_article.expected.txt",
    "zh": "newspaper4k__chinese_article_001.expected.txt",
    "ja": "newspaper4k__japanese_article2.expected.txt",
}
# Korean: fundus' expected parse of a Hankook Ilbo article.
KOREAN = "fundus__kr__HankookIlbo_2026_01_29"
UNSPACED = ("my", "th", "zh", "ja", "ko")


def paragraphs(corpus: Path, language: str) -> list[str]:
    if language == "ko":
        return [p for p in Corpus(corpus).story(KOREAN).paragraphs if len(p) >= 40]
    text = (corpus / "pages" / PAGES[language]).read_text(encoding="utf-8")
    return [p.strip() for p in text.split("\n") if len(p.strip()) >= 40]


def russian(corpus: Path) -> list[str]:
    raw = (corpus / "feeds" / "node-feedparser__oren-ru-windows-1251.xml").read_bytes().decode("cp1251")
    return [d.strip() for d in re.findall(r"<description>([^<]{60,})</description>", raw)]


def edited(text: str, language: str) -> str:
    """Two small edits in the middle: words in spaced scripts, graphemes in unspaced ones."""
    if language in UNSPACED:
        units = tokens(normalize(text))
        middle = len(units) // 2
        units[middle], units[middle + 7] = units[middle + 7], units[middle]
        return "".join(units) if language != "ko" else " ".join(units)
    words = text.split()
    middle = len(words) // 2
    words[middle], words[middle + 3] = words[middle + 3], words[middle]
    return " ".join(words)


@pytest.mark.parametrize("language", [*PAGES, "ko"])
def test_a_near_copy_is_found_and_confirmed_in_every_script(corpus: Path, language: str) -> None:
    texts = paragraphs(corpus, language)
    original, other = texts[0], texts[1]
    copy = edited(original, language)
    assert norm_hash(copy) != norm_hash(original)
    signer = Signer()
    index = BandIndex(LshParams.for_threshold(0.45, signer.num_perm))
    index.insert(signer.signatures(texts), np.arange(len(texts), dtype=np.int64), 0)
    found = index.query(signer.signatures([copy]), min_estimate=0.2)
    assert 0 in found.ref.tolist()
    rule = NearRule()
    compared = NearBlock(normalize(copy)).compare(NearBlock(normalize(original)), rule)
    assert compared is not None and compared[0] >= compared[1]
    unrelated = NearBlock(normalize(copy)).compare(NearBlock(normalize(other)), rule)
    assert unrelated is not None and unrelated[0] < unrelated[1]


def test_tokens_are_the_grapheme_pattern_over_the_whole_text(corpus: Path) -> None:
    from dedupe.normalize import _TOKEN

    texts = [normalize(p) for language in (*PAGES, "ko") for p in paragraphs(corpus, language)]
    english = normalize("Seoul said on Friday")
    # Spaced text quoting unspaced words, marks after them, unspaced runs glued to Latin letters.
    texts += [f"{english} {t[:30]} {english}" for t in texts[:40]]
    texts += [normalize("abc東京def 서울\u0301 ok ก\u0e34\u0e48ข x\u0301y")]
    assert any(is_unspaced(t) for t in texts) and any(not is_unspaced(t) for t in texts)
    for text in texts:
        assert tokens(text) == _TOKEN.findall(text), text[:60]


@pytest.mark.parametrize("language", UNSPACED)
def test_unspaced_scripts_are_tokenised_by_grapheme(corpus: Path, language: str) -> None:
    text = normalize(paragraphs(corpus, language)[0])
    assert is_unspaced(text)
    units = tokens(text)
    assert len(units) > len(text.split()) * 3
    for unit in units:
        assert " " not in unit
        assert unicodedata.category(unit[0])[0] != "M", f"a mark starts token {unit!r}"


def test_arabic_script_variants_fold_together(corpus: Path) -> None:
    text = paragraphs(corpus, "ar")[0]
    # Typed on a Persian keyboard (Farsi yeh, keheh), stretched with tatweel, vowelled with harakat.
    persian = text.replace("\u064a", "\u06cc").replace("\u0643", "\u06a9")
    stretched = text.replace("\u0644\u0627", "\u0644\u0640\u0627")
    vowelled = re.sub("([\u0628\u062a\u0645])", "\\1\u064e", text)
    hamza = text.replace("\u0627\u0644", "\u0623\u0644", 3)
    for variant in (persian, stretched, vowelled, hamza):
        assert variant != text
        assert norm_hash(variant) == norm_hash(text)
    # Eastern Arabic digits are digits.
    assert normalize("عام ٢٠٢٤") == normalize("عام 2024")


def test_cyrillic_variants_fold_together(corpus: Path) -> None:
    text = russian(corpus)[0]
    stressed = text.replace("ра", "ра\u0301", 2)
    with_yo = text.replace("е", "ё", 2)
    assert norm_hash(stressed) == norm_hash(text)
    assert norm_hash(with_yo) == norm_hash(text)
    assert norm_hash(text.upper()) == norm_hash(text)
    # й is a letter of its own, not и with a mark.
    assert normalize("край") != normalize("краи")


def test_persian_zero_width_non_joiner_is_a_word_break() -> None:
    assert tokens(normalize("می\u200cخواهم")) == tokens(normalize("می خواهم"))


@pytest.mark.parametrize(
    ("script", "text"),
    [("Khmer", "ព័ត៌មានថ្មីៗពីកម្ពុជា"), ("Lao", "ຂ່າວລ່າສຸດຈາກລາວ"), ("Tibetan", "བོད་ཀྱི་གསར་འགྱུར།")],
)
def test_khmer_lao_tibetan_are_unspaced_and_keep_their_marks(script: str, text: str) -> None:
    folded = normalize(text)
    assert is_unspaced(folded), script
    units = tokens(folded)
    assert "".join(units) == folded.replace(" ", "")
    assert all(unicodedata.category(u[0])[0] != "M" for u in units)
