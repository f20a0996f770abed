"""Dedupe speed and memory: our signatures + LSH against naive datasketch, in one process.

    python -m benchmarks.dedupe_speed --paragraphs 100000 [--rebuild] [--json FILE]

Paragraphs come from a word-bigram chain trained on real English and Indonesian corpus bodies
(fixed seed). Both sides start from normalised text (normalising, which both need, is timed
apart). Measured:

- ours, batch: signatures for 10,000 paragraphs at a time, then LSH query and insert;
- ours, streaming: one article (25 paragraphs) per call, on top of the index built in batch;
- naive datasketch: a ``MinHash()`` per paragraph, one ``update()`` per shingle, then
  ``MinHashLSH.query`` and ``insert`` (threshold 0.45, its default weights), on a sample;
- datasketch's ``MinHashLSH`` alone (query + insert of ready signatures), on a sample;
- index bytes per paragraph: our ``BandIndex.nbytes``; datasketch's from tracemalloc;
- with ``--rebuild``: the paragraphs stored in SQLite (signatures as bytes), then the in-memory
  index rebuilt from SQL the way the service does at start;
- the load average at the start and the end (other jobs on the machine slow every figure).
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.corpus_bodies import Corpus
from benchmarks.synthetic import BigramChain
from dedupe.lsh import BandIndex, LshParams
from dedupe.normalize import normalize
from dedupe.shingles import shingles
from dedupe.signatures import Signer

DEFAULT_CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"
THRESHOLD = 0.45
BATCH = 10_000
ARTICLE = 25


def paragraphs(corpus: Path, count: int, seed: int) -> list[str]:
    training = [p for s in Corpus(corpus).stories() if s.language in ("en", "id") for p in s.paragraphs]
    return list(BigramChain(training, seed=seed).paragraphs(count))


class Clock:
    """Wall time and this process's CPU time: on a shared machine the CPU time is what one core
    of our own did, while the wall time also counts the time other jobs held the cores."""

    def __init__(self) -> None:
        self.wall = time.perf_counter()
        self.cpu = time.process_time()

    def stop(self) -> tuple[float, float]:
        return time.perf_counter() - self.wall, time.process_time() - self.cpu


def ours_batch(signer: Signer, index: BandIndex, texts: Sequence[str]) -> tuple[float, float]:
    clock = Clock()
    for first in range(0, len(texts), BATCH):
        matrix = signer.signatures(texts[first : first + BATCH], normalized=True)
        refs = np.arange(first, first + len(matrix), dtype=np.int64)
        index.query_and_insert(matrix, refs, 0, min_estimate=THRESHOLD - 0.25)
    return clock.stop()


def ours_streaming(signer: Signer, index: BandIndex, texts: Sequence[str], offset: int) -> tuple[float, float]:
    clock = Clock()
    for first in range(0, len(texts), ARTICLE):
        matrix = signer.signatures(texts[first : first + ARTICLE], normalized=True)
        refs = np.arange(offset + first, offset + first + len(matrix), dtype=np.int64)
        index.query_and_insert(matrix, refs, 0, min_estimate=THRESHOLD - 0.25)
    return clock.stop()


def naive_datasketch(texts: Sequence[str], num_perm: int) -> tuple[float, float]:
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=THRESHOLD, num_perm=num_perm)
    clock = Clock()
    for number, text in enumerate(texts):
        minhash = MinHash(num_perm=num_perm)
        for shingle in shingles(text, normalized=True):
            minhash.update(shingle.encode("utf-8"))
        lsh.query(minhash)
        lsh.insert(str(number), minhash)
    return clock.stop()


def datasketch_lsh(signer: Signer, texts: Sequence[str]) -> tuple[float, float]:
    """MinHashLSH alone (ready signatures): seconds for query + insert, bytes per paragraph."""
    from datasketch import MinHashLSH

    params = LshParams.for_threshold(THRESHOLD, signer.num_perm)
    lean = [signer.lean(row) for row in signer.signatures(texts, normalized=True)]
    lsh = MinHashLSH(num_perm=signer.num_perm, params=(params.bands, params.rows))
    started = time.perf_counter()
    for number, minhash in enumerate(lean):
        lsh.query(minhash)
        lsh.insert(str(number), minhash)
    seconds = time.perf_counter() - started
    # Memory apart: tracemalloc slows every allocation down.
    lsh = MinHashLSH(num_perm=signer.num_perm, params=(params.bands, params.rows))
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for number, minhash in enumerate(lean):
        lsh.insert(str(number), minhash)
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    return seconds, used / len(lean)


def rebuild_from_sql(signer: Signer, texts: Sequence[str], folder: Path) -> dict[str, Any]:
    """Store the paragraphs with their signatures, then time the service's index rebuild."""
    from config import load_settings
    from ingest import migrations
    from ingest.app import App

    url = f"sqlite:///{folder / 'rebuild.sqlite3'}"
    app = App(load_settings(environ={}, database_url=url))
    migrations.upgrade(app.engine)
    app.engine.dispose()
    now = datetime.now(UTC).isoformat(sep=" ")
    started = time.perf_counter()
    connection = sqlite3.connect(folder / "rebuild.sqlite3")
    connection.execute("INSERT INTO sources (id, name, created_at) VALUES (1, 'bench', ?)", (now,))
    articles = (len(texts) + ARTICLE - 1) // ARTICLE
    connection.executemany(
        "INSERT INTO articles (id, source_id, entry_key, canonical_id, content_hash, agencies, version, extra,"
        " created_at, modified_at) VALUES (?, 1, ?, ?, 'x', '[]', 1, '{}', ?, ?)",
        ((i + 1, f"bench:{i}", i + 1, now, now) for i in range(articles)),
    )
    for first in range(0, len(texts), 50_000):
        chunk = texts[first : first + 50_000]
        blobs = signer.rows_bytes(signer.signatures(chunk, normalized=True))
        connection.executemany(
            "INSERT INTO article_paragraphs (article_id, position, kind, text, norm_hash, signature)"
            " VALUES (?, ?, 'body', ?, '', ?)",
            (
                ((first + i) // ARTICLE + 1, (first + i) % ARTICLE, text, blob)
                for i, (text, blob) in enumerate(zip(chunk, blobs, strict=True))
            ),
        )
    connection.commit()
    connection.close()
    stored = time.perf_counter() - started
    app = App(load_settings(environ={}, database_url=url))
    started = time.perf_counter()
    with app.sessions.begin() as session:
        loaded = app.deduper.load_memory_index(session)
    seconds = time.perf_counter() - started
    app.close()
    return {"paragraphs": loaded, "seconds": round(seconds, 2), "store_seconds": round(stored, 1)}


def run(corpus: Path, count: int, seed: int, naive_sample: int, rebuild: bool) -> dict[str, Any]:
    load_before = os.getloadavg()
    signer = Signer()
    texts = paragraphs(corpus, count + min(20_000, max(ARTICLE, count // 5)), seed)
    started = time.perf_counter()
    normalized = [normalize(t) for t in texts]
    normalize_seconds = time.perf_counter() - started
    batch_texts, stream_texts = normalized[:count], normalized[count:]
    index = BandIndex(LshParams.for_threshold(THRESHOLD, signer.num_perm))
    batch_seconds, batch_cpu = ours_batch(signer, index, batch_texts)
    index_bytes = index.nbytes / len(index)
    stream_seconds, stream_cpu = ours_streaming(signer, index, stream_texts, count)
    sample = batch_texts[: min(naive_sample, count)]
    naive_seconds, naive_cpu = naive_datasketch(sample, signer.num_perm)
    lsh_sample = batch_texts[: min(4 * naive_sample, count)]
    lsh_seconds, lsh_bytes = datasketch_lsh(signer, lsh_sample)
    results: dict[str, Any] = {
        "paragraphs": count,
        "words_per_paragraph": round(sum(len(t.split()) for t in batch_texts) / count, 1),
        "num_perm": signer.num_perm,
        "lsh": {"bands": index.params.bands, "rows": index.params.rows, "threshold": THRESHOLD},
        "normalize_per_s": round(len(texts) / normalize_seconds),
        "ours_batch_per_s": round(count / batch_seconds),
        "ours_streaming_per_s": round(len(stream_texts) / stream_seconds),
        "naive_per_s": round(len(sample) / naive_seconds),
        "ours_batch_per_cpu_s": round(count / batch_cpu),
        "ours_streaming_per_cpu_s": round(len(stream_texts) / stream_cpu),
        "naive_per_cpu_s": round(len(sample) / naive_cpu),
        "datasketch_lsh_alone_per_s": round(len(lsh_sample) / lsh_seconds),
        "ours_index_bytes_per_paragraph": round(index_bytes),
        "datasketch_index_bytes_per_paragraph": round(lsh_bytes),
        "naive_sample": len(sample),
    }
    results["batch_speedup_vs_naive"] = round(results["ours_batch_per_s"] / results["naive_per_s"], 1)
    results["streaming_speedup_vs_naive"] = round(results["ours_streaming_per_s"] / results["naive_per_s"], 1)
    results["batch_cpu_speedup_vs_naive"] = round(results["ours_batch_per_cpu_s"] / results["naive_per_cpu_s"], 1)
    results["streaming_cpu_speedup_vs_naive"] = round(
        results["ours_streaming_per_cpu_s"] / results["naive_per_cpu_s"], 1
    )
    results["memory_ratio_datasketch_to_ours"] = round(lsh_bytes / index_bytes, 1)
    if rebuild:
        with tempfile.TemporaryDirectory() as folder:
            results["rebuild_from_sql"] = rebuild_from_sql(signer, batch_texts, Path(folder))
    # Other jobs slow the wall-clock figures (and, less, the CPU ones): the 1-minute load average
    # at the start and the end of the run.
    results["load_average"] = [round(load_before[0], 2), round(os.getloadavg()[0], 2)]
    return results


def table(results: dict[str, Any]) -> str:
    rows = [
        ("paragraphs indexed", f"{results['paragraphs']:,}"),
        ("words per paragraph", f"{results['words_per_paragraph']}"),
        ("LSH bands x rows", f"{results['lsh']['bands']} x {results['lsh']['rows']} of {results['num_perm']}"),
        ("normalise (both sides), per s", f"{results['normalize_per_s']:,}"),
        ("ours batch: sign + query + insert, per s", f"{results['ours_batch_per_s']:,}"),
        ("ours streaming (25 per call), per s", f"{results['ours_streaming_per_s']:,}"),
        ("naive datasketch, per s", f"{results['naive_per_s']:,}"),
        ("ours batch, per CPU-second (one core)", f"{results['ours_batch_per_cpu_s']:,}"),
        ("ours streaming, per CPU-second (one core)", f"{results['ours_streaming_per_cpu_s']:,}"),
        ("naive datasketch, per CPU-second", f"{results['naive_per_cpu_s']:,}"),
        ("batch speed-up vs naive, CPU", f"{results['batch_cpu_speedup_vs_naive']}x"),
        ("streaming speed-up vs naive, CPU", f"{results['streaming_cpu_speedup_vs_naive']}x"),
        ("datasketch MinHashLSH alone, per s", f"{results['datasketch_lsh_alone_per_s']:,}"),
        ("batch speed-up vs naive", f"{results['batch_speedup_vs_naive']}x"),
        ("streaming speed-up vs naive", f"{results['streaming_speedup_vs_naive']}x"),
        ("ours index bytes per paragraph", f"{results['ours_index_bytes_per_paragraph']:,}"),
        ("datasketch index bytes per paragraph", f"{results['datasketch_index_bytes_per_paragraph']:,}"),
        ("memory ratio datasketch / ours", f"{results['memory_ratio_datasketch_to_ours']}x"),
    ]
    if "rebuild_from_sql" in results:
        rebuild = results["rebuild_from_sql"]
        rows.append(("rebuild from SQL", f"{rebuild['paragraphs']:,} paragraphs in {rebuild['seconds']} s"))
    rows.append(("load average (1 min) at start, end", " / ".join(f"{v:.2f}" for v in results["load_average"])))
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value:>18}" for name, value in rows)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--paragraphs", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--naive-sample", type=int, default=3_000, help="paragraphs for the naive baseline")
    parser.add_argument("--rebuild", action="store_true", help="also time the index rebuild from SQL")
    parser.add_argument("--json", type=Path, help="also write the JSON here")
    args = parser.parse_args(argv)
    results = run(args.corpus, args.paragraphs, args.seed, args.naive_sample, args.rebuild)
    print(table(results))
    document = json.dumps(results, indent=2, sort_keys=True)
    print(document)
    if args.json:
        args.json.write_text(document + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
