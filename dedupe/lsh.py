"""LSH banding with explicit parameters, and a compact in-memory band index.

``LshParams.for_threshold`` picks bands and rows so that a pair at the threshold becomes a
candidate with probability >= ``recall`` (datasketch's default weights find such a pair only
30-50% of the time), then the fewest false candidates below half the threshold within a band
budget. The same (bands, rows) go to ``datasketch.MinHashLSH(params=...)`` for the Redis mode.

``BandIndex`` holds, per indexed block, one 32-bit fingerprint per band in an open-addressing
table (linear probing, vectorised with numpy), plus the block's reference, day and a 1-byte-per-
permutation sketch of signature columns the bands do not use. The sketch estimates Jaccard for a
candidate before anyone fetches its text, so the low-similarity pairs that banding lets through
at a low threshold cost nothing. Why not datasketch's ``MinHashLSH`` in memory: it keeps a Python
bytes key and set entry per band and block, 3-6 KB per block; this keeps well under 1 KB.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from dedupe.hashing import fmix64

_Q = np.uint64(0x9FB21C651E98DF25)
_BAND_SALT = np.uint64(0xD6E8FEB86659FD93)
SKETCH_WIDTH = 48  # sketch bytes (permutations) per block
_EMPTY = np.uint32(0)

Int64Array = npt.NDArray[np.int64]


@dataclass(frozen=True)
class LshParams:
    bands: int
    rows: int

    def __post_init__(self) -> None:
        if self.bands < 1 or self.rows < 1:
            raise ValueError(f"LSH needs at least one band and one row, got {self.bands}x{self.rows}")

    @property
    def width(self) -> int:
        """Signature columns the bands use."""
        return self.bands * self.rows

    def probability(self, similarity: float) -> float:
        """Chance that a pair with this Jaccard similarity shares at least one band."""
        return 1.0 - (1.0 - similarity**self.rows) ** self.bands

    def false_candidates(self, threshold: float, steps: int = 200) -> float:
        """Area under the candidate curve below half the threshold (the cost of low pairs)."""
        upper = threshold / 2
        return sum(self.probability(upper * (i + 0.5) / steps) for i in range(steps)) * upper / steps

    @classmethod
    def for_threshold(cls, threshold: float, num_perm: int, *, recall: float = 0.99, max_bands: int = 40) -> LshParams:
        """Bands x rows with recall >= ``recall`` at ``threshold``, fewest false candidates."""
        if not 0.0 < threshold < 1.0:
            raise ValueError(f"threshold must be in (0, 1), got {threshold}")
        if not 0.0 < recall < 1.0:
            raise ValueError(f"recall must be in (0, 1), got {recall}")
        best: tuple[float, int, LshParams] | None = None
        for rows in range(1, num_perm + 1):
            p = threshold**rows
            if p < 1e-9:
                break
            bands = 1 if p >= 1.0 else math.ceil(math.log1p(-recall) / math.log1p(-p))
            if bands > max_bands or bands * rows > num_perm:
                continue
            params = cls(bands, rows)
            score = (params.false_candidates(threshold), bands, params)
            if best is None or score[:2] < best[:2]:
                best = score
        if best is None:
            raise ValueError(
                f"no LSH parameters reach recall {recall} at threshold {threshold} with {num_perm} "
                f"permutations and at most {max_bands} bands; raise num_perm or the threshold"
            )
        return best[2]


def band_keys(signatures: npt.NDArray[np.uint32], params: LshParams) -> npt.NDArray[np.uint64]:
    """One 64-bit key per (block, band): a hash of the band's values and the band's number."""
    count = len(signatures)
    if signatures.shape[1] < params.width:
        raise ValueError(f"signatures have {signatures.shape[1]} permutations, bands need {params.width}")
    values = signatures[:, : params.width].reshape(count, params.bands, params.rows).astype(np.uint64)
    keys = values[:, :, 0].copy()
    for row in range(1, params.rows):
        keys *= _Q
        keys += values[:, :, row]
    keys += (np.arange(1, params.bands + 1, dtype=np.uint64) * _BAND_SALT)[None, :]
    return fmix64(keys)


def fingerprints(keys: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint32]:
    """The 32-bit form of band keys kept in memory (0 is reserved for empty slots)."""
    prints = (keys >> np.uint64(32)).astype(np.uint32)
    prints[prints == _EMPTY] = 1
    return prints


def sketches(signatures: npt.NDArray[np.uint32], params: LshParams) -> npt.NDArray[np.uint8]:
    """The low byte of the signature columns after the bands' (up to ``SKETCH_WIDTH`` of them)."""
    columns = signatures[:, params.width : params.width + SKETCH_WIDTH]
    return (columns & np.uint32(0xFF)).astype(np.uint8)


def sketch_similarity(left: npt.NDArray[np.uint8], right: npt.NDArray[np.uint8]) -> npt.NDArray[np.float64]:
    """Jaccard estimated from 1-byte sketches, row by row (chance agreement 1/256 removed)."""
    if left.shape[-1] == 0:
        return np.ones(len(left), dtype=np.float64)
    agree = np.count_nonzero(left == right, axis=-1) / left.shape[-1]
    estimate: npt.NDArray[np.float64] = np.clip((agree - 1 / 256) / (1 - 1 / 256), 0.0, 1.0)
    return estimate


class _Level:
    """A sorted run of ``fingerprint << 32 | item`` keys with a directory on the top bits."""

    def __init__(self, keys: npt.NDArray[np.uint64]) -> None:
        self.keys = keys
        bits = max(1, min(30, (len(keys) // 2).bit_length()))
        self.shift = np.uint64(64 - bits)
        counts = np.bincount((keys >> self.shift).astype(np.int64), minlength=1 << bits)
        self.directory = np.zeros(len(counts) + 1, dtype=np.int64)
        np.cumsum(counts, out=self.directory[1:])

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def nbytes(self) -> int:
        return int(self.keys.nbytes + self.directory.nbytes)

    def lookup(self, prints: npt.NDArray[np.uint32]) -> tuple[Int64Array, npt.NDArray[np.uint32]]:
        bucket = (prints.astype(np.uint64) << np.uint64(32)) >> self.shift
        low = self.directory[bucket.astype(np.int64)]
        counts = self.directory[bucket.astype(np.int64) + 1] - low
        total = int(counts.sum())
        if total == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint32)
        query = np.repeat(np.arange(len(prints), dtype=np.int64), counts)
        offsets = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
        keys = self.keys[np.repeat(low, counts) + offsets]
        match = (keys >> np.uint64(32)).astype(np.uint32) == prints[query]
        return query[match], (keys[match] & np.uint64(0xFFFFFFFF)).astype(np.uint32)


# Streaming inserts collect in a dict until this many, then become a sorted level.
_DELTA_LIMIT = 1 << 16
# A level merges into the one before it while that one is less than this many times larger.
_MERGE_RATIO = 4


class _Table:
    """Fingerprint -> items, as sorted levels (merged like an LSM tree) plus a small dict.

    Sorted runs cost 8 bytes per entry and a directory lookup per query; the dict takes the
    one-article-at-a-time inserts of streaming ingest without re-sorting anything.
    """

    def __init__(self) -> None:
        self.levels: list[_Level] = []
        self.delta: dict[int, list[int]] = {}
        self.delta_size = 0

    @property
    def nbytes(self) -> int:
        # Each dict entry costs roughly 100 bytes (key, list, ints); counted so the figure is honest.
        return sum(level.nbytes for level in self.levels) + 100 * self.delta_size

    def insert(self, prints: npt.NDArray[np.uint32], items: npt.NDArray[np.uint32]) -> None:
        if len(prints) >= _DELTA_LIMIT // 4:
            keys = (prints.astype(np.uint64) << np.uint64(32)) | items.astype(np.uint64)
            keys.sort()
            self._push(keys)
            return
        delta = self.delta
        for fingerprint, item in zip(prints.tolist(), items.tolist(), strict=True):
            bucket = delta.get(fingerprint)
            if bucket is None:
                delta[fingerprint] = [item]
            else:
                bucket.append(item)
        self.delta_size += len(prints)
        if self.delta_size >= _DELTA_LIMIT:
            self.flush()

    def flush(self) -> None:
        if not self.delta_size:
            return
        keys = np.fromiter(
            ((fingerprint << 32) | item for fingerprint, bucket in self.delta.items() for item in bucket),
            dtype=np.uint64,
            count=self.delta_size,
        )
        keys.sort()
        self.delta = {}
        self.delta_size = 0
        self._push(keys)

    def _push(self, keys: npt.NDArray[np.uint64]) -> None:
        runs: list[npt.NDArray[np.uint64]] = [level.keys for level in self.levels] + [keys]
        while len(runs) >= 2 and len(runs[-2]) < _MERGE_RATIO * len(runs[-1]):
            right = runs.pop()
            left = runs.pop()
            merged: npt.NDArray[np.uint64] = np.sort(np.concatenate([left, right]), kind="stable")  # timsort merge
            runs.append(merged)
        kept = {id(level.keys): level for level in self.levels}
        self.levels = [kept.get(id(run)) or _Level(run) for run in runs]

    def lookup(self, prints: npt.NDArray[np.uint32]) -> tuple[Int64Array, npt.NDArray[np.uint32]]:
        queries: list[Int64Array] = []
        items: list[npt.NDArray[np.uint32]] = []
        for level in self.levels:
            query, item = level.lookup(prints)
            queries.append(query)
            items.append(item)
        if self.delta_size:
            delta = self.delta
            found_query: list[int] = []
            found_item: list[int] = []
            for number, fingerprint in enumerate(prints.tolist()):
                bucket = delta.get(fingerprint)
                if bucket is not None:
                    found_query.extend([number] * len(bucket))
                    found_item.extend(bucket)
            queries.append(np.array(found_query, dtype=np.int64))
            items.append(np.array(found_item, dtype=np.uint32))
        if not queries:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint32)
        return np.concatenate(queries), np.concatenate(items)

    def keep(self, alive: npt.NDArray[np.bool_], renumber: npt.NDArray[np.int64]) -> None:
        """Drop entries whose item is not alive; renumber the rest into one level."""
        self.flush()
        if not self.levels:
            return
        joined: npt.NDArray[np.uint64] = np.concatenate([level.keys for level in self.levels])
        joined = joined[alive[(joined & np.uint64(0xFFFFFFFF)).astype(np.int64)]]
        items = renumber[(joined & np.uint64(0xFFFFFFFF)).astype(np.int64)].astype(np.uint64)
        kept: npt.NDArray[np.uint64] = ((joined >> np.uint64(32)) << np.uint64(32)) | items
        kept.sort()
        self.levels = [_Level(kept)] if len(kept) else []


@dataclass(frozen=True)
class Candidates:
    """Band hits of a query batch: ``query[i]`` (row in the batch) may match ``ref[i]``."""

    query: Int64Array
    ref: Int64Array
    estimate: npt.NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.query)


class BandIndex:
    """The in-memory LSH index: derived state, rebuilt from stored signatures."""

    def __init__(self, params: LshParams, capacity: int = 1024) -> None:
        self.params = params
        self._table = _Table()
        self._refs = np.zeros(capacity, dtype=np.int64)
        self._days = np.zeros(capacity, dtype=np.int32)
        self._sketches = np.zeros((capacity, SKETCH_WIDTH), dtype=np.uint8)
        self._count = 0

    def __len__(self) -> int:
        return self._count

    @property
    def nbytes(self) -> int:
        """Bytes of index memory (tables and per-block arrays)."""
        return int(self._table.nbytes + self._refs.nbytes + self._days.nbytes + self._sketches.nbytes)

    def _grow(self, extra: int) -> None:
        needed = self._count + extra
        if needed <= len(self._refs):
            return
        size = max(needed, int(len(self._refs) * 1.5), 16)
        self._refs = np.resize(self._refs, size)
        self._days = np.resize(self._days, size)
        self._sketches = np.resize(self._sketches, (size, SKETCH_WIDTH))

    def insert(self, signatures: npt.NDArray[np.uint32], refs: Int64Array, days: npt.NDArray[np.int32] | int) -> None:
        """Index blocks: ``refs`` are the caller's references (e.g. article and position)."""
        count = len(signatures)
        if count == 0:
            return
        self._grow(count)
        first = self._count
        sketch = sketches(signatures, self.params)
        self._refs[first : first + count] = refs
        self._days[first : first + count] = days
        self._sketches[first : first + count, : sketch.shape[1]] = sketch
        items = np.repeat(np.arange(first, first + count, dtype=np.uint32), self.params.bands)
        self._table.insert(fingerprints(band_keys(signatures, self.params)).ravel(), items)
        self._count += count

    def query(
        self, signatures: npt.NDArray[np.uint32], *, min_day: int | None = None, min_estimate: float = 0.0
    ) -> Candidates:
        """Distinct (query, block) pairs sharing a band, with their sketch estimate."""
        if len(signatures) == 0 or self._count == 0:
            empty = np.zeros(0, dtype=np.int64)
            return Candidates(empty, empty, np.zeros(0, dtype=np.float64))
        prints = fingerprints(band_keys(signatures, self.params)).ravel()
        hits, items = self._table.lookup(prints)
        query_rows = hits // self.params.bands
        pairs = np.unique(query_rows * np.int64(self._count + 1) + items.astype(np.int64))
        query_rows = pairs // np.int64(self._count + 1)
        items64 = pairs % np.int64(self._count + 1)
        keep = np.ones(len(pairs), dtype=bool)
        if min_day is not None:
            keep &= self._days[items64] >= min_day
        query_sketch = sketches(signatures, self.params)
        width = query_sketch.shape[1]
        estimate = sketch_similarity(query_sketch[query_rows], self._sketches[items64, :width])
        keep &= estimate >= min_estimate
        return Candidates(query_rows[keep], self._refs[items64[keep]], estimate[keep])

    def prune(self, min_day: int) -> int:
        """Forget blocks older than ``min_day``; returns how many were dropped."""
        alive = self._days[: self._count] >= min_day
        dropped = int(self._count - np.count_nonzero(alive))
        if dropped == 0:
            return 0
        renumber = np.cumsum(alive) - 1
        self._table.keep(alive, renumber)
        survivors = np.flatnonzero(alive)
        self._refs = self._refs[survivors].copy()
        self._days = self._days[survivors].copy()
        self._sketches = self._sketches[survivors].copy()
        self._count = len(survivors)
        return dropped
