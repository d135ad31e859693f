"""Small files with the real signatures of each kind (what a sniffer reads), made here: no fixtures on disk.

`pad` grows a file to a size without changing its head, for the size limits.
"""

from __future__ import annotations

import base64
import struct
import threading
import uuid
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def png(width: int = 1, height: int = 1) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = b"".join(b"\0" + b"\xff\x80\0" * width for _ in range(height))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def jpeg() -> bytes:
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"


def webp(animated: bool = False) -> bytes:
    if animated:
        vp8x = b"VP8X" + struct.pack("<I", 10) + bytes([0x02, 0, 0, 0]) + b"\x00" * 6
        body = b"WEBP" + vp8x + b"ANIM" + struct.pack("<I", 6) + b"\x00" * 6
    else:
        body = b"WEBP" + b"VP8 " + struct.pack("<I", 10) + b"\x00" * 10
    return b"RIFF" + struct.pack("<I", len(body)) + body


def ogg(opus: bool = True) -> bytes:
    codec = b"OpusHead\x01\x01\x38\x01\x80\xbb\x00\x00\x00\x00\x00" if opus else b"\x01vorbis\x00\x00\x00\x00"
    page = b"OggS\x00\x02" + b"\x00" * 8 + struct.pack("<I", 1) + struct.pack("<I", 0) + b"\x00\x00\x00\x00"
    return page + bytes([1, len(codec)]) + codec


def mp4(brand: bytes = b"isom") -> bytes:
    ftyp = b"ftyp" + brand + b"\x00\x00\x02\x00" + brand + b"iso2avc1mp41"
    return struct.pack(">I", len(ftyp) + 4) + ftyp + struct.pack(">I", 8) + b"free"


def mp3() -> bytes:
    return b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x00" + b"\x00" * 64


def pdf() -> bytes:
    return b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def pad(data: bytes, size: int) -> bytes:
    return data + b"\x00" * (size - len(data))


def multipart(field: str, filename: str, content: bytes, content_type: str) -> tuple[bytes, str]:
    """A multipart/form-data body with one file part; returns (body, Content-Type header)."""
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n"
    ).encode()
    body = head + content + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def binary_event(event: dict, body: bytes, content_type: str) -> dict:
    """An API Gateway event carrying a binary body, as API Gateway sends one (base64)."""
    event["body"] = base64.b64encode(body).decode()
    event["isBase64Encoded"] = True
    event["headers"]["content-type"] = content_type
    event["headers"]["content-length"] = str(len(body))
    return event


class FileServer:
    def __init__(self, url: str) -> None:
        self.url = url
        self.hits: list[str] = []
        """The paths requested, in order."""


@contextmanager
def file_server(files: dict[str, tuple[bytes, str]], redirects: dict[str, str] | None = None) -> Iterator[FileServer]:
    """A loopback HTTP server: path -> (bytes, Content-Type), and path -> Location for redirects."""
    redirects = redirects or {}
    served: FileServer

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            served.hits.append(self.path)
            if self.path in redirects:
                self.send_response(302)
                self.send_header("Location", redirects[self.path])
                self.end_headers()
                return
            if self.path not in files:
                self.send_response(404)
                self.end_headers()
                return
            body, content_type = files[self.path]
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    served = FileServer(f"http://127.0.0.1:{server.server_port}")
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()
