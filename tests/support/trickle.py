"""A loopback server that answers as slowly as a hostile one can, and reports what it managed to send.

Each connection is read up to the end of the request, then answered by `mode`:

- "body": the status line and headers at once, then the body one byte every `every` seconds;
- "headers": the status line and headers one byte every `every` seconds (they never end);
- "silent": nothing at all;
- "endless": a 200 with a body that never ends, as fast as the client takes it;
- "tls": whatever the client says first (its TLS hello) is answered by a TLS handshake record, one byte at a
  time, that never completes.

Between two bytes the server watches the connection, so it sees the client hang up at once: `sent` then
says how far it got, which is how a test shows that the client gave up early without timing anything.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

TRICKLE_BYTES = 200
"""What a trickling answer is long: at one byte every 0.1 s, 20 s to send it all."""


@dataclass
class Trickle:
    url: str
    sent: int = 0
    """Bytes of the answer sent (for "endless": of its body) before the client hung up or the answer ended."""
    hung_up: bool = False
    """The client closed the connection before the server was done."""
    done: threading.Event = field(default_factory=threading.Event)


def _answer(mode: str) -> tuple[bytes, bytes]:
    """(what goes at once, what trickles), for the modes that trickle."""
    length = TRICKLE_BYTES
    if mode == "tls":  # a handshake record header announcing a ServerHello longer than what will ever come
        return b"", b"\x16\x03\x03\x40\x00\x02" + b"\x00" * (length - 6)
    head = "HTTP/1.1 200 OK\r\ncontent-type: image/png\r\ncontent-length: {}\r\n\r\n"
    if mode == "headers":  # longer headers than what trickles: the client never gets past them
        head = head.replace("\r\n\r\n", f"\r\nx-padding: {'p' * length}\r\n\r\n")
        return b"", head.format(4).encode()[:length]
    body = b"\x89PNG" + b"\x00" * (length - 4)
    return head.format(len(body)).encode(), body


def _read_request(conn: socket.socket, mode: str) -> None:
    if mode == "tls":
        conn.recv(65536)  # the client's hello, whatever it holds
        return
    data = b""
    while b"\r\n\r\n" not in data:
        piece = conn.recv(65536)
        if not piece:
            return
        data += piece
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")),
        0,
    )
    while len(body) < length:
        piece = conn.recv(65536)
        if not piece:
            return
        body += piece


def _closed(conn: socket.socket, wait: float) -> bool:
    """Waits up to `wait` seconds for the client to close the connection (it sends nothing else)."""
    conn.settimeout(wait)
    try:
        return conn.recv(1) == b""
    except TimeoutError:
        return False
    except OSError:
        return True


def _serve(conn: socket.socket, mode: str, every: float, state: Trickle) -> None:
    with conn:
        _read_request(conn, mode)
        if mode == "silent":
            # Long enough for any client that keeps a deadline to have given up; not forever if one does not.
            for _ in range(int(120 / every)):
                if _closed(conn, every):
                    state.hung_up = True
                    return
            return
        if mode == "endless":
            conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 1000000000000\r\n\r\n")
            block = b"x" * 65536
            conn.settimeout(60)
            try:
                while state.sent < 10**12:
                    conn.sendall(block)
                    state.sent += len(block)
            except OSError:
                state.hung_up = True
            return
        at_once, trickled = _answer(mode)
        try:
            conn.sendall(at_once)
            for byte in trickled:
                if _closed(conn, every):
                    state.hung_up = True
                    return
                conn.sendall(bytes([byte]))
                state.sent += 1
        except OSError:
            state.hung_up = True


@contextmanager
def trickle_server(mode: str, every: float = 0.1, scheme: str = "http") -> Iterator[Trickle]:
    """Serves one connection by `mode`. On exit waits for the server to be done with it: at once if the client
    hung up; if the client holds on, until the trickle ends by itself (TRICKLE_BYTES × `every` seconds)."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    state = Trickle(f"{scheme}://127.0.0.1:{listener.getsockname()[1]}/photo.png")
    closing = threading.Event()

    def run() -> None:
        try:
            while not closing.is_set():
                try:
                    conn, _ = listener.accept()
                except TimeoutError:
                    continue
                conn.settimeout(None)
                _serve(conn, mode, every, state)
                return
        except OSError:
            pass
        finally:
            state.done.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        closing.set()  # no connection came: nothing to wait for
        state.done.wait(180)
        listener.close()
