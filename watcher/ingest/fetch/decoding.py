"""Undoing a response's Content-Encoding a bounded step at a time.

The body is decompressed here, not by httpx: httpx inflates a whole network chunk
at once, and a few kilobytes of brotli or stacked gzip inflate to gigabytes before
any size cap can look at them.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator

try:
    import brotli
except ImportError:  # httpx[brotli] installs brotlicffi instead on PyPy
    brotli = None

from watcher.ingest.fetch.results import Refused

# Decompression hands out at most this many bytes at a time, so the size cap
# is checked before a compression bomb can fill memory.
DECODE_STEP = 65536


def _brotli_can_bound() -> bool:
    """Whether the installed brotli can stop decompressing at a given output size."""
    if brotli is None:
        return False
    try:
        brotli.Decompressor().process(b"", output_buffer_limit=DECODE_STEP)
    except (TypeError, brotli.error):  # brotli < 1.2 has no output_buffer_limit
        return False
    return True


BROTLI = _brotli_can_bound()
DECODING_ERRORS: tuple[type[Exception], ...] = (zlib.error,) + (
    (brotli.error,) if brotli is not None else ()
)
# Only encodings that can be decoded a bounded step at a time are asked for.
ACCEPT_ENCODING = "gzip, deflate, br" if BROTLI else "gzip, deflate"


class _ZlibLayer:
    """gzip or deflate; deflate is zlib-wrapped or, from some servers, raw (as httpx allows)."""

    def __init__(self, encoding: str) -> None:
        gzip = encoding in ("gzip", "x-gzip")
        self._inflate = zlib.decompressobj(zlib.MAX_WBITS | 16 if gzip else zlib.MAX_WBITS)
        self._may_be_raw = not gzip  # until the first bytes decode

    def _step(self, data: bytes) -> bytes:
        try:
            out = self._inflate.decompress(data, DECODE_STEP)
        except zlib.error:
            if not self._may_be_raw:
                raise
            self._may_be_raw = False
            self._inflate = zlib.decompressobj(-zlib.MAX_WBITS)
            out = self._inflate.decompress(data, DECODE_STEP)
        if data:
            self._may_be_raw = False
        return out

    def feed(self, data: bytes) -> Iterator[bytes]:
        while True:
            out = self._step(data)
            if out:
                yield out
            data = self._inflate.unconsumed_tail
            if not data and len(out) < DECODE_STEP:
                return

    def flush(self) -> Iterator[bytes]:
        if out := self._inflate.flush():
            yield out


class _BrotliLayer:
    def __init__(self) -> None:
        assert brotli is not None
        self._decompressor = brotli.Decompressor()

    def feed(self, data: bytes) -> Iterator[bytes]:
        out = self._decompressor.process(data, output_buffer_limit=DECODE_STEP)
        while True:
            if out:
                yield out
            if self._decompressor.can_accept_more_data() or not out:
                return
            out = self._decompressor.process(b"", output_buffer_limit=DECODE_STEP)

    def flush(self) -> Iterator[bytes]:
        return iter(())


_Layer = _ZlibLayer | _BrotliLayer


def _through(layer: _Layer, chunks: Iterable[bytes]) -> Iterator[bytes]:
    for chunk in chunks:
        yield from layer.feed(chunk)


class BodyDecoder:
    """Undoes a response's Content-Encoding, lazily, in pieces of at most DECODE_STEP bytes.

    Encodings are undone in the reverse of the order they are listed in;
    ``identity`` and names it does not know are passed over, as httpx does.
    """

    def __init__(self, encodings: list[str]) -> None:
        layers: list[_Layer] = []
        for name in (e.strip().lower() for e in reversed(encodings)):
            if name in ("gzip", "x-gzip", "deflate"):
                layers.append(_ZlibLayer(name))
            elif name == "br":
                if not BROTLI:
                    raise Refused(
                        "cannot decode the response body (brotli without a bounded decoder; "
                        "install brotli >= 1.2)",
                        "decoding",
                    )
                layers.append(_BrotliLayer())
        self._layers = layers

    def _onward(self, start: int, chunks: Iterable[bytes]) -> Iterator[bytes]:
        for layer in self._layers[start:]:
            chunks = _through(layer, chunks)
        return iter(chunks)

    def decode(self, data: bytes) -> Iterator[bytes]:
        return self._onward(0, (data,))

    def flush(self) -> Iterator[bytes]:
        for index, layer in enumerate(self._layers):
            yield from self._onward(index + 1, layer.flush())
