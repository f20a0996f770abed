"""``db check``: cheap consistency checks an operator can run at any time, read-only.

Each check gives ``ok`` or a problem with what to do about it. Checks that would scan big
tables use indexed aggregates only, so the command stays fast on a large database.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from ingest.corpus_dedupe import CorpusDeduper
from store import admin
from store import repository as repo


@dataclass(frozen=True)
class Finding:
    check: str
    ok: bool
    message: str
    warning: bool = False  # worth knowing, but nothing is wrong

    def render(self) -> str:
        status = "ok" if self.ok else "problem"
        if self.ok and self.warning:
            status = "warning"
        return f"{status:<8} {self.check}: {self.message}"


def _listed(values: list[object], more: bool) -> str:
    return ", ".join(str(v) for v in values) + (", ..." if more else "")


def run_checks(session: Session, deduper: CorpusDeduper, dialect: str) -> list[Finding]:
    signer = deduper.signer
    findings: list[Finding] = []

    if dialect == "sqlite":
        problems = admin.sqlite_integrity(session)
        findings.append(Finding(
            "sqlite integrity", not problems,
            "pages and foreign keys sound" if not problems else "; ".join(problems[:5]),
        ))

    shape = admin.change_log_shape(session)
    if shape.events == 0:
        gapless = shape.counter == 0
        message = "empty" if gapless else f"no events but the counter is at {shape.counter}"
    else:
        assert shape.first_seq is not None and shape.last_seq is not None
        gapless = shape.first_seq == 1 and shape.last_seq - shape.first_seq + 1 == shape.events
        gapless = gapless and shape.counter == shape.last_seq
        message = (
            f"{shape.events} events, seq 1..{shape.last_seq}, no gaps" if gapless else
            f"{shape.events} events between seq {shape.first_seq} and {shape.last_seq}, counter at {shape.counter}: "
            "consumers following --since-seq may miss or repeat events"
        )
    findings.append(Finding("change log", gapless, message))

    stored = repo.get_state(session)
    expected = deduper.expected_state()
    if deduper.config.backend != "sql":  # band layout only matters for the shared SQL index
        expected = {k: v for k, v in expected.items() if not k.startswith("lsh.")}
    mismatched = {k: (stored[k], v) for k, v in expected.items() if k in stored and stored[k] != v}
    if mismatched:
        details = ", ".join(f"{k}: stored {s!r}, configured {c!r}" for k, (s, c) in sorted(mismatched.items()))
        fix = "index rebuild --resign" if any(k.startswith("minhash.") for k in mismatched) else "index rebuild"
        findings.append(Finding(
            "dedupe parameters", False,
            f"the stored index was made with other parameters ({details}): run `newsdedup {fix}`",
        ))
    elif not any(k in stored for k in expected):
        findings.append(Finding("dedupe parameters", True, "none recorded yet (nothing ingested)", warning=True))
    else:
        findings.append(Finding("dedupe parameters", True, "stored signatures and index match the configuration"))

    size = len(signer.to_bytes(signer.for_text("newsdedup")))
    sizes = admin.signature_sizes(session)
    wrong = {n_bytes: n for n_bytes, n in sizes.items() if n_bytes != size}
    total = sum(sizes.values())
    findings.append(Finding(
        "signatures", not wrong,
        f"{total} stored, all {size} bytes ({signer.params.num_perm} permutations)" if not wrong else
        f"{sum(wrong.values())} of {total} signatures are not {size} bytes "
        "(made with another num_perm?): run `newsdedup index rebuild --resign`",
    ))

    canonical = admin.dangling_canonical(session, limit=21)
    findings.append(Finding(
        "canonical clusters", not canonical,
        "every merged article points at a live canonical article" if not canonical else
        "articles pointing at a missing, deleted or merged canonical article: "
        f"{_listed(list(canonical[:20]), len(canonical) > 20)}",
    ))

    links = admin.dangling_paragraph_links(session, limit=21)
    findings.append(Finding(
        "paragraph links", not links,
        "every duplicate link points at a live paragraph" if not links else
        "paragraphs linked to a paragraph that is gone: "
        f"{_listed([f'{a}#{p}' for a, p in links[:20]], len(links) > 20)}; "
        f"fix with `newsdedup reingest --article ID`",
    ))

    unrecoverable = admin.articles_without_raw_document(session)
    findings.append(Finding(
        "raw documents", True,
        "every live article can be re-ingested from its raw document" if not unrecoverable else
        f"{unrecoverable} live articles have no raw document and cannot be re-ingested",
        warning=bool(unrecoverable),
    ))
    return findings


__all__ = ["Finding", "run_checks"]
