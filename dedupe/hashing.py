"""Shingle hashes for a whole batch of texts at once, with numpy.

datasketch hashes one shingle per Python call (``hashfunc(b)``), which costs more than all the
rest of MinHash together. Here every shingle of a batch is hashed by a handful of array
operations: a polynomial hash of each token's UTF-8 bytes (``np.add.reduceat``), then a
polynomial of the token hashes for each n-gram, then the MurmurHash3 64-bit finalizer; the
top 32 bits are the shingle's hash value.

``shingle_hash32`` computes the same value for one shingle string in plain Python. Handing it
to datasketch as ``MinHash(hashfunc=shingle_hash32)`` gives bit-identical signatures, which is
what keeps ours interchangeable with datasketch's (``LeanMinHash``, ``MinHashLSH``, its Redis
storage).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

U64 = np.uint64
_MASK64 = (1 << 64) - 1
_P = 0x9E3779B97F4A7C15  # byte polynomial base (odd)
_P_INVERSE = pow(_P, -1, 1 << 64)
_Q = 0xC2B2AE3D27D4EB4F  # token polynomial base (odd)
_K = 0x165667B19E3779F9  # token length salt
_C1 = 0xFF51AFD7ED558CCD
_C2 = 0xC4CEB9FE1A85EC53
_TEXT_SEPARATOR = "\n"

UInt64Array = npt.NDArray[np.uint64]
UInt32Array = npt.NDArray[np.uint32]
Int64Array = npt.NDArray[np.int64]


def fmix64(values: UInt64Array) -> UInt64Array:
    """MurmurHash3's 64-bit finalizer, element-wise (wrap-around multiplication intended)."""
    x = values ^ (values >> U64(33))
    x *= U64(_C1)
    x ^= x >> U64(33)
    x *= U64(_C2)
    x ^= x >> U64(33)
    return x


def _fmix64_int(x: int) -> int:
    x ^= x >> 33
    x = (x * _C1) & _MASK64
    x ^= x >> 33
    x = (x * _C2) & _MASK64
    return x ^ (x >> 33)


def token_hash(token: bytes) -> int:
    """The 64-bit hash of one token's UTF-8 bytes (reference implementation)."""
    value = 0
    power = 1
    for byte in token:
        value = (value + (byte + 1) * power) & _MASK64
        power = (power * _P) & _MASK64
    return _fmix64_int((value + len(token) * _K) & _MASK64)


def shingle_hash32(shingle: bytes | str) -> int:
    """The 32-bit hash of one shingle (tokens joined by single spaces), for datasketch's ``hashfunc``."""
    data = shingle.encode("utf-8") if isinstance(shingle, str) else shingle
    combined = 0
    for part in data.split(b" "):
        combined = (combined * _Q + token_hash(part)) & _MASK64
    return _fmix64_int(combined) >> 32


def _geometric(base: int, size: int) -> UInt64Array:
    """base^i mod 2^64 for i < size, by doubling (a cumprod is an order of magnitude slower)."""
    table = np.empty(size, dtype=U64)
    table[0] = 1
    filled = 1
    step = base
    while filled < size:
        count = min(filled, size - filled)
        np.multiply(table[:count], U64(step), out=table[filled : filled + count])
        filled += count
        step = (step * step) & _MASK64
    return table


class ShingleHasher:
    """Hashes the shingles of many texts per call. Keeps a table of powers between calls."""

    def __init__(self) -> None:
        self._powers: UInt64Array = np.ones(1, dtype=U64)
        self._inverse: UInt64Array = np.ones(1, dtype=U64)

    def _power_tables(self, length: int) -> tuple[UInt64Array, UInt64Array]:
        """P^i and P^-i (mod 2^64) for i < length; P is odd, so it has an inverse."""
        if len(self._powers) < length:
            size = max(length, 2 * len(self._powers), 1024)
            self._powers = _geometric(_P, size)
            self._inverse = _geometric(_P_INVERSE, size)
        return self._powers, self._inverse

    def hash_texts(
        self, token_strings: Sequence[str], sizes: Sequence[int] | Int64Array | int
    ) -> tuple[UInt32Array, Int64Array]:
        """Shingle hashes of each text, concatenated in text order, and how many each text has
        (the high 32 bits of ``wide_hashes``)."""
        wide, counts = self.wide_hashes(token_strings, sizes)
        return (wide >> U64(32)).astype(np.uint32), counts

    def wide_hashes(
        self, token_strings: Sequence[str], sizes: Sequence[int] | Int64Array | int
    ) -> tuple[UInt64Array, Int64Array]:
        """64-bit shingle hashes of each text, concatenated in text order, and how many each text has.

        ``token_strings[i]`` holds text i's tokens joined by single spaces (empty for no
        tokens); ``sizes[i]`` (or one ``sizes`` for all) is its n-gram size. A text with fewer
        tokens than its size has one shingle, all of its tokens.
        """
        count = len(token_strings)
        # Texts joined by newlines: one encode and one byte scan find every token and text
        # boundary, with no Python step per text (tokens never hold whitespace).
        joined = _TEXT_SEPARATOR.join(token_strings)
        if joined.count(_TEXT_SEPARATOR) != max(count - 1, 0):
            raise ValueError("token strings must not contain newlines (pass normalised text)")
        buffer = np.frombuffer(joined.encode("utf-8"), dtype=np.uint8)
        length = len(buffer)
        is_separator = buffer == 10
        boundaries = np.flatnonzero(is_separator | (buffer == 32))
        starts = np.empty(len(boundaries) + 1, dtype=np.int64)
        starts[0] = 0
        starts[1:] = boundaries + 1
        ends = np.empty_like(starts)
        ends[:-1] = boundaries
        ends[-1] = length
        owner_all = np.zeros(len(starts), dtype=np.int64)
        np.cumsum(is_separator[boundaries], out=owner_all[1:])
        nonempty = np.flatnonzero(ends > starts)  # an empty text is one empty "token"
        owner = owner_all[nonempty]
        token_counts = np.bincount(owner, minlength=count).astype(np.int64)
        size_array = np.broadcast_to(np.asarray(sizes, dtype=np.int64), (count,))
        shingle_counts = np.where(
            token_counts >= size_array, token_counts - size_array + 1, np.minimum(token_counts, 1)
        ).astype(np.int64)
        tokens_total = len(nonempty)
        if tokens_total == 0:
            return np.zeros(0, dtype=U64), shingle_counts
        tokens = self._token_hashes(buffer, boundaries, starts[nonempty], ends[nonempty])
        # Shingle t spans tokens [t, t + width) of its own text: every full window, plus the
        # first token of a text shorter than its size (one shingle of all its tokens).
        text_end = np.cumsum(token_counts)
        place = np.arange(tokens_total, dtype=np.int64)
        remaining = text_end[owner] - place
        # One size for every text (the common case) needs no per-token sizes.
        token_size = sizes if isinstance(sizes, int) else size_array[owner]
        valid = remaining >= token_size
        short = np.flatnonzero((token_counts > 0) & (token_counts < size_array))
        if len(short):
            valid[(text_end - token_counts)[short]] = True
        positions = np.flatnonzero(valid)
        if isinstance(sizes, int) and not len(short):
            widths = None  # every shingle is a full window of ``sizes`` tokens
            present = np.array([sizes])
        else:
            sized = token_size if isinstance(token_size, int) else token_size[positions]
            widths = np.minimum(sized, remaining[positions])
            present = np.flatnonzero(np.bincount(widths))
        combined = np.empty(len(positions), dtype=U64)
        # Window values of growing width, over the whole token array at once (contiguous
        # slices, no gathers): after step w, values[t] = sum_i tokens[t + i] * Q^(w-1-i).
        values = tokens.copy()
        for width in range(1, int(present[-1]) + 1):
            if width > 1:
                head = values[: tokens_total - width + 1]
                head *= U64(_Q)
                head += tokens[width - 1 :]
            if width in present:
                if len(present) == 1 or widths is None:
                    combined = values[positions]
                else:
                    chosen = widths == width
                    combined[chosen] = values[positions[chosen]]
        return fmix64(combined), shingle_counts

    def _token_hashes(
        self, buffer: npt.NDArray[np.uint8], boundaries: Int64Array, starts: Int64Array, ends: Int64Array
    ) -> UInt64Array:
        """Hashes of the tokens ``buffer[starts[i]:ends[i]]`` (boundary bytes at ``boundaries``)."""
        length = len(buffer)
        # Byte i contributes (b_i + 1) * P^i; a token's sum times P^-start is then
        # sum_j (b_j + 1) * P^j over its own bytes, whatever its place in the buffer.
        powers, inverse = self._power_tables(length + 1)
        prefix = np.empty(length + 1, dtype=U64)
        prefix[0] = 0
        contributions = prefix[1:]
        np.add(buffer, U64(1), out=contributions, dtype=U64)
        contributions *= powers[:length]
        contributions[boundaries] = 0
        # Sums by prefix differences (wrap-around is fine: the hash is mod 2^64), far cheaper
        # than a reduceat over tens of thousands of short segments.
        np.cumsum(prefix, out=prefix)
        sums = (prefix[ends] - prefix[starts]) * inverse[starts]
        return fmix64(sums + (ends - starts).astype(U64) * U64(_K))
