"""LSH banding with explicit parameters, and a compact in-memory band index.

``LshParams.for_threshold`` picks bands and rows so that a pair at the threshold becomes a
candidate with probability >= ``recall`` (datasketch's default weights find such a pair only
30-50% of the time), then the fewest false candidates below half the threshold within a band
budget. The same (bands, rows) go to ``datasketch.MinHashLSH(params=...)`` for the Redis mode.

``BandIndex`` holds, per indexed block, one 32-bit fingerprint per band in sorted runs with a
directory on their top bits (looked up with numpy, merged like an LSM tree), plus the block's
reference, day and a 1-byte-per-
permutation sketch of signature columns the bands do not use. The sketch estimates Jaccard for a
candidate before anyone fetches its text, so the low-similarity pairs that banding lets through
at a low threshold cost nothing. Why not datasketch's ``MinHashLSH`` in memory: it keeps a Python
bytes key and set entry per band and block, 3-6 KB per block; this keeps well under 1 KB.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from dedupe.hashing import fmix64

_Q = np.uint64(0x9FB21C651E98DF25)
_BAND_SALT = np.uint64(0xD6E8FEB86659FD93)
SKETCH_WIDTH = 48  # sketch bytes (permutations) per block
_EMPTY = np.uint32(0)
_LOW32 = np.uint64(0xFFFFFFFF)
_HIGH32 = np.uint64(0xFFFFFFFF00000000)

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


# Runs shorter than this are searched with ``np.searchsorted``; longer ones get a directory.
_DIRECTORY_MIN = 1 << 15


class _Level:
    """A sorted run of ``fingerprint << 32 | item`` keys; long runs get a directory on the top bits."""

    def __init__(self, keys: npt.NDArray[np.uint64]) -> None:
        self.keys = keys
        self.directory: npt.NDArray[np.int32] | None = None
        self.shift = np.uint64(64)
        if len(keys) >= _DIRECTORY_MIN:
            # About one key per bucket; int32 offsets keep the directory at 4 bytes a key.
            bits = min(31, (len(keys) - 1).bit_length())
            self.shift = np.uint64(64 - bits)
            counts = np.bincount((keys >> self.shift).astype(np.intp), minlength=1 << bits)
            # Summed in int64, then narrowed: a cumsum straight into int32 casts element by
            # element and cost four times as much.
            offsets = np.empty(len(counts) + 1, dtype=np.int64)
            offsets[0] = 0
            np.cumsum(counts, out=offsets[1:])
            self.directory = offsets.astype(np.int32)

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def nbytes(self) -> int:
        return int(self.keys.nbytes + (self.directory.nbytes if self.directory is not None else 0))

    def lookup(self, wanted: npt.NDArray[np.uint64]) -> tuple[Int64Array, npt.NDArray[np.uint32]]:
        """Entries whose fingerprint is ``wanted >> 32``: (row in ``wanted``, item) pairs."""
        low: npt.NDArray[np.signedinteger[Any]]
        if self.directory is None:
            low = np.searchsorted(self.keys, wanted)
            counts = np.searchsorted(self.keys, wanted | _LOW32, side="right") - low
        else:
            bucket = (wanted >> self.shift).astype(np.intp)
            low = self.directory[bucket]
            counts = self.directory[bucket + 1] - low
        # Every key of every range (about one per bucket), compared in one pass.
        total = int(counts.sum())
        if total == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint32)
        owners = np.repeat(np.arange(len(wanted), dtype=np.int64), counts)
        positions = np.arange(total, dtype=np.int64) + np.repeat(low - (np.cumsum(counts) - counts), counts)
        keys = self.keys[positions]
        match = (keys & _HIGH32) == wanted[owners]
        return owners[match], (keys[match] & _LOW32).astype(np.uint32)


# A run merges into the one before it while that one is less than this many times larger. With 2
# the runs behave like a binary counter: each entry is merged about log2(entries / batch) times
# and there are as many runs as 1-bits in the count of batches. A larger ratio looks cheaper but
# merges the largest run again every few inserts (the merged tail soon outgrows 1/ratio of it),
# which at a million paragraphs cost more than everything else together.
_MERGE_RATIO = 2


class _Table:
    """Fingerprint -> items, as sorted runs merged like an LSM tree.

    Sorted runs cost 8 bytes per entry (plus 4 for a directory on long runs) and no load factor;
    an article's inserts become a small run of their own, merged into the runs above as they grow.
    """

    def __init__(self) -> None:
        self.levels: list[_Level] = []

    @property
    def nbytes(self) -> int:
        return sum(level.nbytes for level in self.levels)

    def insert(self, prints: npt.NDArray[np.uint32], items: npt.NDArray[np.uint32]) -> None:
        if not len(prints):
            return
        keys = (prints.astype(np.uint64) << np.uint64(32)) | items.astype(np.uint64)
        keys.sort()
        runs: list[npt.NDArray[np.uint64]] = [level.keys for level in self.levels] + [keys]
        # Runs too short for a directory always merge: one article at a time would otherwise
        # leave a dozen tiny runs, each searched by every lookup.
        while len(runs) >= 2 and (
            len(runs[-2]) < _MERGE_RATIO * len(runs[-1]) or len(runs[-2]) + len(runs[-1]) <= _DIRECTORY_MIN
        ):
            right = runs.pop()
            left = runs.pop()
            merged: npt.NDArray[np.uint64] = np.sort(np.concatenate([left, right]), kind="stable")  # timsort merge
            runs.append(merged)
        kept = {id(level.keys): level for level in self.levels}
        self.levels = [kept.get(id(run)) or _Level(run) for run in runs]

    def lookup(self, prints: npt.NDArray[np.uint32]) -> tuple[Int64Array, npt.NDArray[np.uint32]]:
        if not self.levels:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint32)
        # In print order the directory and key reads walk memory forwards: large indexes are
        # bound by memory latency, and sorted reads let the hardware prefetch.
        # (Unstable argsort: the order of equal prints does not matter, and it is several times faster.)
        order = np.argsort(prints) if len(prints) > 256 else None
        ordered = prints[order] if order is not None else prints
        wanted = ordered.astype(np.uint64) << np.uint64(32)
        queries: list[Int64Array] = []
        items: list[npt.NDArray[np.uint32]] = []
        for level in self.levels:
            query, item = level.lookup(wanted)
            if len(query):
                queries.append(order[query] if order is not None else query)
                items.append(item)
        if not queries:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint32)
        return np.concatenate(queries), np.concatenate(items)

    def keep(self, alive: npt.NDArray[np.bool_], renumber: npt.NDArray[np.int64]) -> None:
        """Drop entries whose item is not alive; renumber the rest into one level."""
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

    def insert(
        self,
        signatures: npt.NDArray[np.uint32],
        refs: Int64Array,
        days: npt.NDArray[np.int32] | int,
        prints: npt.NDArray[np.uint32] | None = None,
    ) -> None:
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
        if prints is None:
            prints = self.prints(signatures)
        self._table.insert(prints, items)
        self._count += count

    def prints(self, signatures: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint32]:
        """The band fingerprints of these signatures, block by block (``bands`` per block)."""
        return fingerprints(band_keys(signatures, self.params)).ravel()

    def query(
        self,
        signatures: npt.NDArray[np.uint32],
        *,
        min_day: int | None = None,
        min_estimate: float = 0.0,
        prints: npt.NDArray[np.uint32] | None = None,
    ) -> Candidates:
        """Distinct (query, block) pairs sharing a band, with their sketch estimate."""
        if len(signatures) == 0 or self._count == 0:
            empty = np.zeros(0, dtype=np.int64)
            return Candidates(empty, empty, np.zeros(0, dtype=np.float64))
        if prints is None:
            prints = self.prints(signatures)
        hits, items = self._table.lookup(prints)
        stride = np.int64(self._count + 1)
        pairs = (hits // self.params.bands) * stride + items.astype(np.int64)
        pairs.sort()
        if len(pairs) > 1:
            pairs = pairs[np.concatenate(([True], pairs[1:] != pairs[:-1]))]
        query_rows = pairs // stride
        items64 = pairs % stride
        keep = np.ones(len(pairs), dtype=bool)
        if min_day is not None:
            keep &= self._days[items64] >= min_day
        query_sketch = sketches(signatures, self.params)
        width = query_sketch.shape[1]
        estimate = sketch_similarity(query_sketch[query_rows], self._sketches[items64, :width])
        keep &= estimate >= min_estimate
        return Candidates(query_rows[keep], self._refs[items64[keep]], estimate[keep])

    def query_and_insert(
        self,
        signatures: npt.NDArray[np.uint32],
        refs: Int64Array,
        days: npt.NDArray[np.int32] | int,
        *,
        min_day: int | None = None,
        min_estimate: float = 0.0,
    ) -> Candidates:
        """Candidates among the blocks indexed before, then index these (band keys made once)."""
        prints = self.prints(signatures)
        found = self.query(signatures, min_day=min_day, min_estimate=min_estimate, prints=prints)
        self.insert(signatures, refs, days, prints=prints)
        return found

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
