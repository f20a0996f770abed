"""LSH banding with explicit parameters, and a compact in-memory band index.

``LshParams.for_threshold`` picks bands and rows so that a pair at the threshold becomes a
candidate with probability >= ``recall`` (datasketch's default weights find such a pair only
30-50% of the time), then the fewest false candidates below half the threshold within a band
budget. The same (bands, rows) go to ``datasketch.MinHashLSH(params=...)`` for the Redis mode.

``BandIndex`` holds, per indexed block, one 32-bit fingerprint per band in sorted runs with a
directory on their top bits (all runs looked up in one pass with numpy, merged like an LSM tree),
plus the block's reference, day and a 1-byte-per-permutation sketch of signature columns the
bands do not use. The sketch estimates Jaccard for every band hit before anyone fetches a text,
so the low-similarity pairs that banding lets through at a low threshold cost little. Why not
datasketch's ``MinHashLSH`` in memory: it keeps a Python bytes key and set entry per band and
block, 3-6 KB per block; this keeps well under 1 KB.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from dedupe.hashing import fmix64

_Q = np.uint64(0x9FB21C651E98DF25)
_BAND_SALT = np.uint64(0xD6E8FEB86659FD93)
# Sketch bytes (permutations) per block. 80 of the 86 columns a 128-permutation signature has
# left after the paragraph bands (21 x 2): against 48, the estimate's error at the near
# threshold falls from 0.072 to 0.056, and with it the candidate margin and the loose matches
# read from the store; 32 bytes more per indexed block.
SKETCH_WIDTH = 80
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
    def for_threshold(
        cls, threshold: float, num_perm: int, *, recall: float = 0.99, max_bands: int = 40, reserve: int = 0
    ) -> LshParams:
        """Bands x rows with recall >= ``recall`` at ``threshold``, fewest false candidates.

        ``reserve``: signature columns to leave to the sketch, when some parameters allow it.
        """
        if not 0.0 < threshold < 1.0:
            raise ValueError(f"threshold must be in (0, 1), got {threshold}")
        if not 0.0 < recall < 1.0:
            raise ValueError(f"recall must be in (0, 1), got {recall}")
        best: tuple[bool, float, int, LshParams] | None = None
        for rows in range(1, num_perm + 1):
            p = threshold**rows
            if p < 1e-9:
                break
            bands = 1 if p >= 1.0 else math.ceil(math.log1p(-recall) / math.log1p(-p))
            if bands > max_bands or bands * rows > num_perm:
                continue
            params = cls(bands, rows)
            score = (bands * rows > num_perm - reserve, params.false_candidates(threshold), bands, params)
            if best is None or score[:3] < best[:3]:
                best = score
        if best is None:
            raise ValueError(
                f"no LSH parameters reach recall {recall} at threshold {threshold} with {num_perm} "
                f"permutations and at most {max_bands} bands; raise num_perm or the threshold"
            )
        return best[3]


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


def _padded_sketches(signatures: npt.NDArray[np.uint32], params: LshParams) -> tuple[npt.NDArray[np.uint8], int]:
    """``sketches`` in ``SKETCH_WIDTH`` columns (zero beyond the used width), and that width."""
    used = sketches(signatures, params)
    if used.shape[1] == SKETCH_WIDTH:
        return used, SKETCH_WIDTH
    padded = np.zeros((len(signatures), SKETCH_WIDTH), dtype=np.uint8)
    padded[:, : used.shape[1]] = used
    return padded, used.shape[1]


# Queries at least this many are looked up in sorted order (see ``_Table.lookup``).
_SORTED_LOOKUP_MIN = 256
_AGREEMENT_BLOCK = 8192  # sketch pairs compared per step (two 640 KB gathers)
_BYTE_SUM = np.uint64(0x0101010101010101)


def _agreement(left: npt.NDArray[np.uint8], right: npt.NDArray[np.uint8]) -> npt.NDArray[np.intp]:
    """Equal bytes per row of two ``SKETCH_WIDTH``-byte sketch arrays.

    The equality bytes (0 or 1) read as 64-bit words are summed word by word, then their bytes
    added by one multiplication: three times faster than ``count_nonzero(axis=-1)``.
    """
    words = np.equal(left, right).view(np.uint64)
    total = words[:, 0].copy()
    for column in range(1, SKETCH_WIDTH // 8):
        total += words[:, column]
    total *= _BYTE_SUM
    total >>= np.uint64(56)
    return total.astype(np.intp)


@functools.cache
def _estimates(width: int) -> npt.NDArray[np.float64]:
    """``sketch_similarity`` for 0..``width`` agreeing bytes of ``width`` (index by the count)."""
    if width == 0:
        return np.ones(SKETCH_WIDTH + 1, dtype=np.float64)
    agree = np.arange(SKETCH_WIDTH + 1) / width
    table: npt.NDArray[np.float64] = np.clip((agree - 1 / 256) / (1 - 1 / 256), 0.0, 1.0)
    return table


# A run merges into the one before it while that one is less than this many times larger: about
# log4(entries / batch) runs, each entry merged about 1.5 times per level. Measured at a million
# paragraphs in batches of 10,000: ratio 2 (a binary counter) left three runs of millions of
# entries for every lookup, 8 merged the largest run too often, 4 was fastest (lookups are bound
# by memory latency, one miss or two per run; a merge is a timsort of two sorted runs, cheap).
_MERGE_RATIO = 4


def _grown(array: npt.NDArray[Any], needed: int) -> npt.NDArray[Any]:
    """``array`` with room for ``needed`` elements (contents kept, capacity grown by half)."""
    if needed <= len(array):
        return array
    bigger = np.empty(max(needed, len(array) + len(array) // 2, 1024), dtype=array.dtype)
    bigger[: len(array)] = array
    return bigger


# Keys per step of a directory build: the step's temporaries stay in cache.
_DIRECTORY_STEP = 1 << 17


def _fill_directory(keys: npt.NDArray[np.uint64], shift: int, offsets: npt.NDArray[np.int32], base: int) -> None:
    """``offsets[b]`` = ``base`` + the number of ``keys`` (sorted) whose top bits are below ``b``.

    Built a step of keys at a time: one bincount over a whole run of millions of keys made
    temporaries of hundreds of megabytes, and the page faults and memory traffic cost ten times
    the counting. A bucket split between steps comes out right: the later step writes the
    offsets after it again, from its own absolute start.
    """
    total = len(keys)
    width = np.uint64(shift)
    filled = 0  # offsets[:filled] are written
    for first in range(0, total, _DIRECTORY_STEP):
        ids = (keys[first : first + _DIRECTORY_STEP] >> width).astype(np.intp)
        low, high = int(ids[0]), int(ids[-1])
        offsets[filled : low + 1] = base + first
        counts = np.bincount(ids - low, minlength=high - low + 1)
        np.cumsum(counts, out=counts)
        counts += base + first
        offsets[low + 1 : high + 2] = counts
        filled = high + 2
    offsets[filled:] = base + total


class _Table:
    """Fingerprint -> items, as sorted runs of ``fingerprint << 32 | item`` merged like an LSM tree.

    Every run lives in one key buffer, in order (only the last runs ever merge, so a merge is an
    in-place sort of the buffer's tail), with a directory on its top bits (one bucket per one to
    two keys) in one directory buffer. A lookup then reads every run with one set of array
    operations: an article's worth of queries costs the same dozen numpy calls whether there are
    two runs or twelve, and the runs cost 8 bytes per entry plus 2-4 for the directory, no load
    factor. (A bucket per half key to one key doubled the directory and was no faster at 1M.)
    """

    def __init__(self) -> None:
        self._clear()

    def _clear(self) -> None:
        self._keys = np.zeros(0, dtype=np.uint64)
        self._directory = np.zeros(0, dtype=np.int32)
        # Per run: first key, key count, first directory slot, shift to its bucket bits.
        self._starts: list[int] = []
        self._lengths: list[int] = []
        self._slots: list[int] = []
        self._shifts: list[int] = []
        self._size = 0  # keys used
        self._slots_used = 0  # directory entries used

    @property
    def nbytes(self) -> int:
        return int(self._keys.nbytes + self._directory.nbytes)

    @property
    def runs(self) -> list[int]:
        """Key count of each run, oldest first."""
        return list(self._lengths)

    def _pop(self) -> None:
        self._starts.pop()
        self._lengths.pop()
        self._slots_used = self._slots.pop()
        self._shifts.pop()

    def _push(self, start: int, length: int) -> None:
        """Index the sorted keys ``[start, start + length)`` as the newest run."""
        keys = self._keys[start : start + length]
        bits = min(31, max(1, (length - 1).bit_length() - 1))
        shift = 64 - bits
        buckets = 1 << bits
        slot = self._slots_used
        self._directory = _grown(self._directory, slot + buckets + 1)
        offsets = self._directory[slot : slot + buckets + 1]
        if start + length >= 1 << 31:
            raise OverflowError("a band index holds at most 2**31 - 1 entries; shorten the window")
        _fill_directory(keys, shift, offsets, start)
        self._starts.append(start)
        self._lengths.append(length)
        self._slots.append(slot)
        self._shifts.append(shift)
        self._slots_used = slot + buckets + 1

    def insert(self, prints: npt.NDArray[np.uint32], items: npt.NDArray[np.uint32]) -> None:
        if not len(prints):
            return
        count = len(prints)
        start = self._size
        self._keys = _grown(self._keys, start + count)
        tail = self._keys[start : start + count]
        np.left_shift(prints, np.uint64(32), out=tail, dtype=np.uint64, casting="unsafe")
        tail |= items
        tail.sort()
        self._size += count
        length = count
        while self._lengths and self._lengths[-1] < _MERGE_RATIO * length:
            start = self._starts[-1]
            length += self._lengths[-1]
            self._pop()
            # Two sorted runs side by side: timsort finds both and merges them.
            self._keys[start : start + length].sort(kind="stable")
        self._push(start, length)

    def lookup(self, prints: npt.NDArray[np.uint32]) -> tuple[Int64Array, npt.NDArray[np.uint32]]:
        """Entries whose fingerprint is one of ``prints``: (position in ``prints``, item) pairs."""
        runs = len(self._lengths)
        if not runs or not len(prints):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint32)
        count = len(prints)
        wanted = np.left_shift(prints, np.uint64(32), dtype=np.uint64, casting="unsafe")
        positions_of: npt.NDArray[np.intp] | None = None
        if count > _SORTED_LOOKUP_MIN:
            # In print order the directory and key reads walk memory forwards: large indexes
            # are bound by memory latency, and sorted reads let the hardware prefetch. One
            # sort of (print, position) packed in 64 bits costs less than an argsort and gather.
            wanted |= np.arange(count, dtype=np.uint64)
            wanted.sort()
            positions_of = (wanted & _LOW32).astype(np.intp)
            wanted &= _HIGH32
        # Every (run, query) at once, run after run.
        buckets = np.empty(runs * count, dtype=np.intp)
        for run, (shift, slot) in enumerate(zip(self._shifts, self._slots, strict=True)):
            part = buckets[run * count : (run + 1) * count]
            np.right_shift(wanted, np.uint64(shift), out=part, casting="unsafe")
            part += slot
        low = self._directory.take(buckets).astype(np.int64)
        buckets += 1
        counts = self._directory.take(buckets) - low
        # Every key of every range (about one per bucket), compared in one pass.
        ends = np.cumsum(counts)
        total = int(ends[-1])
        if total == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint32)
        owners = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
        low -= ends - counts
        positions = np.repeat(low, counts)
        positions += np.arange(total, dtype=np.int64)
        keys = self._keys.take(positions)
        if runs > 1:
            wanted = np.concatenate((wanted,) * runs)
        match = np.flatnonzero((keys & _HIGH32) == wanted.take(owners))
        hits = owners.take(match)
        if runs > 1:
            hits %= count
        found = keys.take(match).astype(np.uint32)  # the low 32 bits: the item
        return (positions_of.take(hits) if positions_of is not None else hits), found

    def keep(self, alive: npt.NDArray[np.bool_], renumber: npt.NDArray[np.int64]) -> None:
        """Drop entries whose item is not alive and renumber the rest, run by run.

        ``renumber`` keeps the items' order, so a run filtered and renumbered is still sorted:
        no run is sorted again (sorting the window's entries back into one run cost most of a
        daily prune). Each run moves down the buffer to where the last one ended.
        """
        runs = list(zip(self._starts, self._lengths, strict=True))
        keys, directory = self._keys, self._directory
        self._clear()
        self._keys, self._directory = keys, directory
        for start, length in runs:
            first = self._size
            # A step at a time, so that the temporaries stay in cache (as in ``_fill_directory``).
            for step in range(start, start + length, _DIRECTORY_STEP):
                chunk = keys[step : min(step + _DIRECTORY_STEP, start + length)]
                items = (chunk & _LOW32).astype(np.intp)
                mask = alive.take(items)
                kept = chunk[mask]
                kept &= _HIGH32
                kept |= renumber.take(items[mask]).astype(np.uint64)
                keys[self._size : self._size + len(kept)] = kept
                self._size += len(kept)
            if self._size > first:
                self._push(first, self._size - first)


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
        padded: tuple[npt.NDArray[np.uint8], int] | None = None,
    ) -> None:
        """Index blocks: ``refs`` are the caller's references (e.g. article and position)."""
        count = len(signatures)
        if count == 0:
            return
        self._grow(count)
        first = self._count
        sketch = (padded if padded is not None else _padded_sketches(signatures, self.params))[0]
        self._refs[first : first + count] = refs
        self._days[first : first + count] = days
        self._sketches[first : first + count] = sketch
        items = np.repeat(np.arange(first, first + count, dtype=np.uint32), self.params.bands)
        if prints is None:
            prints = self.prints(signatures)
        self._table.insert(prints, items)
        self._count += count

    def prints(self, signatures: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint32]:
        """The band fingerprints of these signatures, block by block (``bands`` per block)."""
        return fingerprints(band_keys(signatures, self.params)).ravel()

    def padded_sketches(self, signatures: npt.NDArray[np.uint32]) -> tuple[npt.NDArray[np.uint8], int]:
        """The sketches ``insert`` and ``query`` take as ``padded``: made once for several calls."""
        return _padded_sketches(signatures, self.params)

    def query(
        self,
        signatures: npt.NDArray[np.uint32],
        *,
        min_day: int | None = None,
        min_estimate: float = 0.0,
        prints: npt.NDArray[np.uint32] | None = None,
        padded: tuple[npt.NDArray[np.uint8], int] | None = None,
    ) -> Candidates:
        """Distinct (query, block) pairs sharing a band, with their sketch estimate."""
        if len(signatures) == 0 or self._count == 0:
            empty = np.zeros(0, dtype=np.int64)
            return Candidates(empty, empty, np.zeros(0, dtype=np.float64))
        if prints is None:
            prints = self.prints(signatures)
        hits, items = self._table.lookup(prints)
        rows = hits // self.params.bands
        # Every band hit is estimated before pairs are made distinct: the duplicates (a pair
        # sharing several bands) are few, and sorting all hits to drop them cost more than
        # estimating them; the survivors are a few percent and cheap to sort.
        query_sketch, width = padded if padded is not None else _padded_sketches(signatures, self.params)
        unused = SKETCH_WIDTH - width  # zero on both sides, so always in agreement
        agree = np.empty(len(rows), dtype=np.intp)
        # In blocks whose gathered sketches stay in cache: twice as fast as whole arrays.
        for first in range(0, len(rows), _AGREEMENT_BLOCK):
            last = first + _AGREEMENT_BLOCK
            agree[first:last] = _agreement(
                query_sketch.take(rows[first:last], axis=0), self._sketches.take(items[first:last], axis=0)
            )
        agree -= unused
        scale = _estimates(width)
        kept = np.flatnonzero(scale.take(agree) >= min_estimate)
        if min_day is not None:
            # Only the few hits the estimate kept: a day read for every hit is one more random
            # read of a large array each.
            kept = kept[self._days.take(items.take(kept)) >= min_day]
        # Distinct pairs (one sharing several bands was hit once per band; its estimate is the same).
        stride = np.int64(self._count + 1)
        pairs = rows.take(kept) * stride + items.take(kept)
        order = np.argsort(pairs)
        pairs = pairs.take(order)
        distinct = np.empty(len(pairs), dtype=bool)
        distinct[:1] = True
        np.not_equal(pairs[1:], pairs[:-1], out=distinct[1:])
        pairs = pairs[distinct]
        query_rows = pairs // stride
        estimate = scale.take(agree.take(kept.take(order[distinct])))
        return Candidates(query_rows, self._refs.take(pairs - query_rows * stride), estimate)

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
        padded = _padded_sketches(signatures, self.params)
        found = self.query(signatures, min_day=min_day, min_estimate=min_estimate, prints=prints, padded=padded)
        self.insert(signatures, refs, days, prints=prints, padded=padded)
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
