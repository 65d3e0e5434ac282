"""What the test upstreams share: a TCP listener on 127.0.0.1:<ephemeral port>, a thread that accepts, a thread per
connection, and a stop that unblocks them all."""

from __future__ import annotations

import socket
import threading


class ThreadedServer:
    """Subclasses call `_open(name)` in their initialiser, keep an `accepts` counter, and define
    `_serve(conn, ordinal)`. Use as a context manager or call start()/stop()."""

    def _open(self, name: str, backlog: int = 256) -> None:
        self._lock = threading.Lock()
        self._conns: set[socket.socket] = set()
        self._stopping = False
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(backlog)
        self.port: int = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._accept_loop, name=f"{name}-{self.port}", daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping = True
        try:
            self._listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._listener.close()
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._thread.join(timeout=5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _accept_loop(self) -> None:
        while not self._stopping:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self.accepts += 1
                ordinal = self.accepts
                self._conns.add(conn)
            threading.Thread(target=self._serve, args=(conn, ordinal), daemon=True).start()

    def _serve(self, conn: socket.socket, ordinal: int) -> None:
        raise NotImplementedError
