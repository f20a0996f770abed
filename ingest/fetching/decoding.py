"""Content-Encoding decoders that never produce more than a set number of bytes.

httpx decodes each network chunk in one call with no bound on the output, so a 64 KB chunk of a
gzip bomb becomes ~64 MB in memory before any size check can run. These decoders ask zlib and
brotli for at most the remaining allowance at a time, so a decompression bomb is refused after
``limit`` bytes whatever its ratio.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

import brotli

from ingest.fetching.errors import BodyTooLargeError, ContentEncodingError, human_size

# brotli >= 1.2 can bound its output; an older one would need unbounded calls, so we do not
# advertise br at all then.
BROTLI_BOUNDED = "output_buffer_limit" in (brotli.Decompressor.process.__doc__ or "")
ACCEPT_ENCODING = "gzip, deflate, br" if BROTLI_BOUNDED else "gzip, deflate"


class _Step:
    """One decoding stage: ``feed(data, room)`` returns at most ``room`` bytes, keeping the rest."""

    def feed(self, data: bytes, room: int) -> bytes:
        raise NotImplementedError

    def pending(self) -> bool:
        """True while output is held back because ``room`` ran out."""
        return False

    def finish(self) -> None:
        """Called at the end of the body: complain about truncated input."""


class _Identity(_Step):
    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, data: bytes, room: int) -> bytes:
        self._buffer += data
        out, self._buffer = self._buffer[:room], self._buffer[room:]
        return out

    def pending(self) -> bool:
        return bool(self._buffer)


class _Zlib(_Step):
    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self._gzip = encoding in ("gzip", "x-gzip")
        self._raw_deflate = False
        self._started = False
        self._decompressor = self._new()
        self._tail = b""

    def _new(self) -> zlib._Decompress:
        if self._gzip:
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        # "deflate" should be zlib-wrapped, but servers often send a raw deflate stream.
        return zlib.decompressobj(-zlib.MAX_WBITS if self._raw_deflate else zlib.MAX_WBITS)

    def feed(self, data: bytes, room: int) -> bytes:
        data = self._tail + data
        self._tail = b""
        out = b""
        while data and len(out) < room:
            try:
                chunk = self._decompressor.decompress(data, room - len(out))
            except zlib.error as exc:
                if not self._gzip and not self._started and not self._raw_deflate:
                    self._raw_deflate = True
                    self._decompressor = self._new()
                    continue
                raise ContentEncodingError("", f"corrupt {self.encoding} data: {exc}") from exc
            self._started = True
            out += chunk
            if self._decompressor.eof:
                # Concatenated gzip members are one body (RFC 1952); anything else after the end is junk.
                data = self._decompressor.unused_data
                if data and self._gzip:
                    self._decompressor = self._new()
                    continue
                return out
            data = self._decompressor.unconsumed_tail
        self._tail = data
        return out

    def pending(self) -> bool:
        return bool(self._tail)

    def finish(self) -> None:
        if self._started and not self._decompressor.eof:
            raise ContentEncodingError("", f"truncated {self.encoding} data")


class _Brotli(_Step):
    def __init__(self) -> None:
        self._decompressor = brotli.Decompressor()
        self._tail = b""

    def feed(self, data: bytes, room: int) -> bytes:
        out = b""
        try:
            if not self._decompressor.can_accept_more_data():
                # Output was held back by the limit: drain it before giving new input.
                out += self._decompressor.process(b"", output_buffer_limit=max(room, 1))
                self._tail += data
                data = b""
            elif self._tail:
                data, self._tail = self._tail + data, b""
            while len(out) < room:
                if data:
                    if not self._decompressor.can_accept_more_data():
                        self._tail += data
                        break
                    chunk = self._decompressor.process(data, output_buffer_limit=room - len(out))
                    data = b""
                elif not self._decompressor.can_accept_more_data():
                    chunk = self._decompressor.process(b"", output_buffer_limit=room - len(out))
                else:
                    break
                if not chunk:
                    break
                out += chunk
            self._tail += data
        except brotli.error as exc:
            raise ContentEncodingError("", f"corrupt br data: {exc}") from exc
        return out

    def pending(self) -> bool:
        return bool(self._tail) or not self._decompressor.can_accept_more_data()

    def finish(self) -> None:
        if not self._decompressor.is_finished():
            raise ContentEncodingError("", "truncated br data")


_STEPS: dict[str, Callable[[], _Step]] = {
    "gzip": lambda: _Zlib("gzip"),
    "x-gzip": lambda: _Zlib("gzip"),
    "deflate": lambda: _Zlib("deflate"),
    "identity": _Identity,
}
if BROTLI_BOUNDED:
    _STEPS["br"] = _Brotli


class BoundedDecoder:
    """Decodes a body encoded with ``Content-Encoding`` (possibly several, applied in order).

    ``feed`` returns decoded bytes; once more than ``limit`` decoded bytes exist it raises
    ``BodyTooLargeError`` instead of producing them.
    """

    def __init__(self, content_encoding: str | None, limit: int, url: str) -> None:
        self.url = url
        self.limit = limit
        self.total = 0
        names = [part.strip().lower() for part in (content_encoding or "").split(",") if part.strip()]
        steps: list[_Step] = []
        for name in names:
            if name not in _STEPS:
                raise ContentEncodingError(url, f"unsupported Content-Encoding {name!r}")
            steps.append(_STEPS[name]())
        # Encodings are listed in the order they were applied; undo them in reverse.
        self._steps = list(reversed(steps)) or [_Identity()]

    def feed(self, data: bytes) -> bytes:
        try:
            return self._run(data) + self._drain()
        except ContentEncodingError as exc:
            raise ContentEncodingError(self.url, exc.detail) from exc

    def finish(self) -> bytes:
        """The last decoded bytes, once the whole body has been fed; refuses truncated data."""
        try:
            out = self._drain()
            for step in self._steps:
                step.finish()
        except ContentEncodingError as exc:
            raise ContentEncodingError(self.url, exc.detail) from exc
        return out

    def _drain(self) -> bytes:
        # Output held back by the allowance: produce it now (each round yields at least a byte
        # while there is room; a few empty rounds in a row mean the decoder needs more input).
        out = b""
        idle = 0
        while self._held_back() and idle < 3:
            more = self._run(b"")
            idle = 0 if more else idle + 1
            out += more
        return out

    def _held_back(self) -> bool:
        return any(step.pending() for step in self._steps)

    def _run(self, data: bytes) -> bytes:
        # One byte of room beyond the limit tells "exactly at the limit" from "over it".
        room = self.limit - self.total + 1
        for step in self._steps:
            data = step.feed(data, room)
        self.total += len(data)
        if self.total > self.limit:
            raise BodyTooLargeError(self.url, f"decompressed body larger than {human_size(self.limit)}")
        return data
