"""Extraction benchmark: newsdedup's extractor against trafilatura's default ``extract()``.

Both run on every page of the corpus that has an expected output, in the same process:

- body text: token-level precision, recall and F1 against the expected article body
  (scrapinghub ``aeb``, ``fundus``, ``newspaper4k``, ``readability`` and ``indo-scraper`` expectations);
- trafilatura's own evaluation pages: share of ``with`` snippets found, ``without`` snippets absent;
- captions: recall of fundus' ``images[].caption`` (trafilatura has no caption output, so its
  whole text is searched instead, which favours it);
- duplicates: body paragraphs or captions that appear more than once in one output (must be 0);
- speed: wall-clock and CPU time (``time.process_time``) of each extractor over the same pages,
  the two interleaved page by page, after one untimed warm-up page each (models and caches load
  once per process), and their ratio; the load average is printed alongside, since other jobs on
  the machine stretch wall-clock time.

Rows: every page, then by language (en, id, others) and by expectation family.

    python -m benchmarks.extraction [--pages DIR] [--limit N] [--only SUBSTRING] [--json FILE]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import sys
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import lxml.html

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = Path(os.environ.get("NEWSDEDUP_CORPUS", REPO.parent / "shared" / "corpus"))

# How many of an expected caption's tokens must be in one output caption for it to count as found.
CAPTION_MATCH = 0.8
_WORD = re.compile(r"\w+")
_UNSPACED = re.compile(
    "[\u0e00-\u0eff\u0f00-\u0fff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]"
)


# --- the pages and what is expected of them ---------------------------------------------------


@dataclass
class Case:
    name: str
    family: str
    html: Path
    url: str | None
    language: str
    body: str | None = None
    with_snippets: list[str] = field(default_factory=list)
    without_snippets: list[str] = field(default_factory=list)
    captions: list[str] = field(default_factory=list)

    @property
    def group(self) -> str:
        return self.language if self.language in ("en", "id") else "others"


def _manifest_languages(corpus: Path) -> dict[str, str]:
    manifest = corpus / "MANIFEST.tsv"
    languages: dict[str, str] = {}
    if manifest.is_file():
        with manifest.open(encoding="utf-8", newline="") as handle:
            for row in csv.reader(handle, delimiter="\t"):
                if len(row) >= 5 and row[0].startswith("pages/"):
                    languages[row[0].removeprefix("pages/")] = row[4]
    return languages


def _readability_text(path: Path) -> str:
    """Readability's article HTML as text; figure captions are dropped (we score captions apart)."""
    root = lxml.html.fromstring(path.read_text(encoding="utf-8"))
    for caption in root.iter("figcaption"):
        caption.drop_tree()
    parts = []
    for element in root.iter("p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "td"):
        if any(child.tag in ("p", "li", "blockquote") for child in element.iterdescendants()):
            continue
        parts.append(" ".join(element.text_content().split()))
    text = "\n".join(p for p in parts if p)
    return text or " ".join(root.text_content().split())


def _fundus_body(data: dict[str, Any]) -> str:
    body = data.get("body") or {}
    parts: list[str] = list(body.get("summary") or [])
    for section in body.get("sections") or []:
        parts.extend(section.get("headline") or [])
        parts.extend(section.get("paragraphs") or [])
    return "\n".join(parts)


def load_cases(corpus: Path = DEFAULT_CORPUS, only: str | None = None, limit: int | None = None) -> list[Case]:
    pages = corpus / "pages"
    languages = _manifest_languages(corpus)
    cases: list[Case] = []
    for html in sorted(pages.glob("*.html")):
        stem = html.name.removesuffix(".html")
        if stem.endswith(".expected") or (only and only not in stem):
            continue
        family = stem.split("__", 1)[0]
        case = Case(stem, family, html, None, languages.get(html.name, "unknown"))
        expected_json = pages / f"{stem}.expected.json"
        data: dict[str, Any] = {}
        if expected_json.is_file():
            data = json.loads(expected_json.read_text(encoding="utf-8"))
        if family == "aeb" and data:
            case.body, case.url = data.get("articleBody"), data.get("url")
        elif family == "fundus" and data:
            case.body, case.url = _fundus_body(data), data.get("_url")
            case.captions = [img["caption"] for img in data.get("images") or [] if img.get("caption")]
        elif family == "trafilatura" and data:
            case.url = data.get("url")
            case.with_snippets, case.without_snippets = list(data.get("with") or []), list(data.get("without") or [])
        elif family == "indo-scraper" and data.get("content"):
            case.body, case.url = data["content"], data.get("url")
        elif family == "newspaper4k" and (pages / f"{stem}.expected.txt").is_file():
            case.body = (pages / f"{stem}.expected.txt").read_text(encoding="utf-8")
            meta = pages / f"{stem}.expected-metadata.json"
            if meta.is_file():
                case.url = json.loads(meta.read_text(encoding="utf-8")).get("url")
        elif family == "readability" and (pages / f"{stem}.expected.html").is_file():
            case.body = _readability_text(pages / f"{stem}.expected.html")
        if case.body is None and not case.with_snippets and not case.captions:
            continue  # no expectation to measure against (index pages, mcmetadata)
        cases.append(case)
    return cases[:limit] if limit else cases


# --- scoring -----------------------------------------------------------------------------------


def tokens(text: str) -> list[str]:
    """Words, lower-cased; in scripts written without spaces, single characters."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    out: list[str] = []
    for word in _WORD.findall(folded):
        if _UNSPACED.search(word):
            out.extend(word)
        else:
            out.append(word)
    return out


def prf(predicted: str, expected: str) -> tuple[float, float, float]:
    got, want = Counter(tokens(predicted)), Counter(tokens(expected))
    overlap = sum((got & want).values())
    precision = overlap / sum(got.values()) if got else (1.0 if not want else 0.0)
    recall = overlap / sum(want.values()) if want else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def _squash(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def caption_found(expected: str, captions: Sequence[str], fallback_text: str = "") -> bool:
    want = Counter(tokens(expected))
    if not want:
        return True
    for caption in [*captions, fallback_text] if fallback_text else captions:
        got = Counter(tokens(caption))
        if sum((got & want).values()) >= CAPTION_MATCH * sum(want.values()):
            return True
    return False


def duplicated_blocks(blocks: Iterable[str]) -> int:
    seen: set[str] = set()
    duplicates = 0
    for block in blocks:
        key = " ".join(tokens(block))
        if not key:
            continue
        if key in seen:
            duplicates += 1
        seen.add(key)
    return duplicates


@dataclass
class Extraction:
    body: list[str]
    captions: list[str] = field(default_factory=list)
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    error: str | None = None

    @property
    def text(self) -> str:
        return "\n".join(self.body)


@dataclass
class CaseScore:
    name: str
    group: str
    family: str
    precision: float | None = None
    recall: float | None = None
    f1: float | None = None
    with_found: int = 0
    with_total: int = 0
    without_absent: int = 0
    without_total: int = 0
    captions_found: int = 0
    captions_total: int = 0
    duplicates: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    error: str | None = None


def score(case: Case, output: Extraction, captions_in_text: bool = False) -> CaseScore:
    result = CaseScore(
        case.name, case.group, case.family, seconds=output.seconds, cpu_seconds=output.cpu_seconds, error=output.error
    )
    text = output.text
    if case.body is not None:
        result.precision, result.recall, result.f1 = prf(text, case.body)
    squashed = _squash(text)
    result.with_total = len(case.with_snippets)
    result.with_found = sum(1 for s in case.with_snippets if _squash(s) in squashed)
    result.without_total = len(case.without_snippets)
    result.without_absent = sum(1 for s in case.without_snippets if _squash(s) not in squashed)
    result.captions_total = len(case.captions)
    fallback = text if captions_in_text else ""
    result.captions_found = sum(1 for c in case.captions if caption_found(c, output.captions, fallback))
    result.duplicates = duplicated_blocks([*output.body, *output.captions])
    return result


@dataclass
class Summary:
    pages: int = 0
    body_pages: int = 0
    precision: float = 0.0
    recall: float = 0.0
    f1: float = 0.0
    with_found: float = 0.0
    without_absent: float = 0.0
    snippet_pages: int = 0
    caption_recall: float | None = None
    captions_total: int = 0
    duplicates: int = 0
    pages_with_duplicates: int = 0
    errors: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0


def summarise(scores: Sequence[CaseScore]) -> Summary:
    summary = Summary(pages=len(scores))
    body = [s for s in scores if s.f1 is not None]
    summary.body_pages = len(body)
    if body:
        summary.precision = sum(s.precision or 0.0 for s in body) / len(body)
        summary.recall = sum(s.recall or 0.0 for s in body) / len(body)
        summary.f1 = sum(s.f1 or 0.0 for s in body) / len(body)
    with_total = sum(s.with_total for s in scores)
    without_total = sum(s.without_total for s in scores)
    summary.snippet_pages = sum(1 for s in scores if s.with_total or s.without_total)
    summary.with_found = sum(s.with_found for s in scores) / with_total if with_total else 0.0
    summary.without_absent = sum(s.without_absent for s in scores) / without_total if without_total else 0.0
    summary.captions_total = sum(s.captions_total for s in scores)
    if summary.captions_total:
        summary.caption_recall = sum(s.captions_found for s in scores) / summary.captions_total
    summary.duplicates = sum(s.duplicates for s in scores)
    summary.pages_with_duplicates = sum(1 for s in scores if s.duplicates)
    summary.errors = sum(1 for s in scores if s.error)
    summary.seconds = sum(s.seconds for s in scores)
    summary.cpu_seconds = sum(s.cpu_seconds for s in scores)
    return summary


# --- the two extractors ------------------------------------------------------------------------

Extractor = Callable[[bytes, str | None, str], Extraction]


def newsdedup_extractor() -> Extractor:
    """Our whole path from bytes to a clean article: decode, extract, clean (no database)."""
    from config import load_settings
    from ingest.app import App
    from ingest.extraction import HtmlExtractor
    from ingest.extraction.article import extract_article

    cleaner = App(load_settings(environ={})).cleaner
    extractor = HtmlExtractor(cleaner.rules)

    def run(raw: bytes, url: str | None, location: str) -> Extraction:
        article = extract_article(raw, cleaner, url=url, location=location, extractor=extractor)
        return Extraction(body=article.body, captions=article.captions)

    return run


def trafilatura_extractor() -> Extractor:
    import trafilatura

    def run(raw: bytes, url: str | None, location: str) -> Extraction:
        text = trafilatura.extract(raw, url=url) or ""
        return Extraction(body=[line for line in (" ".join(x.split()) for x in text.split("\n")) if line])

    return run


def timed(extractor: Extractor, case: Case) -> Extraction:
    raw = case.html.read_bytes()
    started, cpu_started = time.perf_counter(), time.process_time()
    try:
        output = extractor(raw, case.url, str(case.html))
    except Exception as exc:  # a crash is a result too: it scores zero and is counted
        output = Extraction(body=[], error=f"{type(exc).__name__}: {exc}")
    output.seconds = time.perf_counter() - started
    output.cpu_seconds = time.process_time() - cpu_started
    return output


def warm_up(extractors: Iterable[Extractor], case: Case) -> None:
    """One untimed page per extractor: language models, rule caches and imports load here."""
    for extractor in extractors:
        timed(extractor, case)


@dataclass
class Report:
    ours: dict[str, Summary]
    trafilatura: dict[str, Summary]
    pages: list[dict[str, Any]]
    load_average: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def speed(self) -> dict[str, Any]:
        """Both extractors' time over every page, and ours as a multiple of trafilatura's."""
        mine, other = self.ours["all"], self.trafilatura.get("all")
        result: dict[str, Any] = {
            "pages": mine.pages,
            "ours_seconds": mine.seconds,
            "ours_cpu_seconds": mine.cpu_seconds,
            "load_average": list(self.load_average),
        }
        if other is not None:
            result["trafilatura_seconds"] = other.seconds
            result["trafilatura_cpu_seconds"] = other.cpu_seconds
            result["ratio_wall"] = mine.seconds / other.seconds if other.seconds else None
            result["ratio_cpu"] = mine.cpu_seconds / other.cpu_seconds if other.cpu_seconds else None
        return result


def _rows(scores: Sequence[CaseScore]) -> dict[str, Sequence[CaseScore]]:
    rows: dict[str, Sequence[CaseScore]] = {"all": scores}
    for group in ("en", "id", "others"):
        rows[group] = [s for s in scores if s.group == group]
    for family in sorted({s.family for s in scores}):
        rows[f"[{family}]"] = [s for s in scores if s.family == family]
    return {name: subset for name, subset in rows.items() if subset}


def run_benchmark(cases: Sequence[Case], with_trafilatura: bool = True) -> Report:
    ours_extractor = newsdedup_extractor()
    baseline = trafilatura_extractor() if with_trafilatura else None
    ours: list[CaseScore] = []
    theirs: list[CaseScore] = []
    if cases:
        warm_up([ours_extractor] if baseline is None else [ours_extractor, baseline], cases[0])
    for case in cases:
        ours.append(score(case, timed(ours_extractor, case)))
        if baseline is not None:
            theirs.append(score(case, timed(baseline, case), captions_in_text=True))
    pages = []
    for index, mine in enumerate(ours):
        entry: dict[str, Any] = {"ours": asdict(mine)}
        if theirs:
            entry["trafilatura"] = asdict(theirs[index])
        pages.append(entry)
    return Report(
        ours={name: summarise(rows) for name, rows in _rows(ours).items()},
        trafilatura={name: summarise(rows) for name, rows in _rows(theirs).items()},
        pages=pages,
        load_average=_load_average(),
    )


def _load_average() -> tuple[float, float, float]:
    try:
        return os.getloadavg()
    except OSError:  # not every platform has one
        return (0.0, 0.0, 0.0)


def _fmt(value: float | None) -> str:
    return "  -  " if value is None else f"{value:.3f}"


def table(report: Report) -> str:
    header = (
        f"{'rows':<16}{'pages':>6}{'body':>6} | {'ours P':>7}{'R':>7}{'F1':>7} | {'traf P':>7}{'R':>7}{'F1':>7}"
        f" | {'with o/t':>13} | {'without o/t':>13} | {'capt o/t':>13} | {'dup o/t':>9} | {'sec o/t':>11}"
    )
    lines = [header, "-" * len(header)]
    for name, mine in report.ours.items():
        other = report.trafilatura.get(name, Summary())
        snippets = mine.snippet_pages > 0
        lines.append(
            f"{name:<16}{mine.pages:>6}{mine.body_pages:>6} | "
            f"{_fmt(mine.precision):>7}{_fmt(mine.recall):>7}{_fmt(mine.f1):>7} | "
            f"{_fmt(other.precision):>7}{_fmt(other.recall):>7}{_fmt(other.f1):>7} | "
            f"{(_fmt(mine.with_found) + '/' + _fmt(other.with_found)) if snippets else '-':>13} | "
            f"{(_fmt(mine.without_absent) + '/' + _fmt(other.without_absent)) if snippets else '-':>13} | "
            f"{(_fmt(mine.caption_recall) + '/' + _fmt(other.caption_recall)) if mine.captions_total else '-':>13} | "
            f"{f'{mine.duplicates}/{other.duplicates}':>9} | "
            f"{f'{mine.seconds:.1f}/{other.seconds:.1f}':>11}"
        )
    return "\n".join(lines)


def speed_table(report: Report) -> str:
    speed = report.speed()
    pages = max(1, speed["pages"])
    load = " ".join(f"{value:.2f}" for value in speed["load_average"])
    lines = [
        f"speed over {speed['pages']} pages (one warm-up page each first; load average {load})",
        f"{'':<14}{'wall s':>9}{'CPU s':>9}{'CPU ms/page':>13}",
        f"{'ours':<14}{speed['ours_seconds']:>9.2f}{speed['ours_cpu_seconds']:>9.2f}"
        f"{1000 * speed['ours_cpu_seconds'] / pages:>13.1f}",
    ]
    if "trafilatura_seconds" in speed:
        lines.append(
            f"{'trafilatura':<14}{speed['trafilatura_seconds']:>9.2f}{speed['trafilatura_cpu_seconds']:>9.2f}"
            f"{1000 * speed['trafilatura_cpu_seconds'] / pages:>13.1f}"
        )
        wall, cpu = speed["ratio_wall"], speed["ratio_cpu"]
        lines.append(
            f"{'ours / traf':<14}{(f'{wall:.2f}x' if wall else '-'):>9}{(f'{cpu:.2f}x' if cpu else '-'):>9}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="corpus folder (holds pages/)")
    parser.add_argument("--only", help="only pages whose name contains this")
    parser.add_argument("--limit", type=int, help="only the first N pages with an expectation")
    parser.add_argument("--json", type=Path, help="also write the full report (every page) here")
    parser.add_argument("--pages", action="store_true", help="print one line per page")
    args = parser.parse_args(argv)
    cases = load_cases(args.corpus, args.only, args.limit)
    if not cases:
        print(f"no pages with expectations under {args.corpus / 'pages'}", file=sys.stderr)
        return 1
    report = run_benchmark(cases)
    if args.pages:
        for page in report.pages:
            mine, other = page["ours"], page.get("trafilatura", {})
            print(
                f"{mine['name'][:60]:<60} {mine['group']:<6} F1 {_fmt(mine['f1'])} vs {_fmt(other.get('f1'))}"
                f"  capt {mine['captions_found']}/{mine['captions_total']}  dup {mine['duplicates']}"
                f"  with {mine['with_found']}/{mine['with_total']} vs {other.get('with_found')}"
                f"  without {mine['without_absent']}/{mine['without_total']} vs {other.get('without_absent')}"
                + (f"  ERROR {mine['error']}" if mine["error"] else "")
            )
    print(table(report))
    print(speed_table(report))
    summary = {
        "ours": {name: asdict(s) for name, s in report.ours.items()},
        "trafilatura": {name: asdict(s) for name, s in report.trafilatura.items()},
        "speed": report.speed(),
    }
    print(json.dumps(summary, indent=None, sort_keys=True))
    if args.json:
        args.json.write_text(json.dumps({**summary, "pages": report.pages}, indent=1, ensure_ascii=False), "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
