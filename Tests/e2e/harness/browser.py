"""Headless Chromium (Debian's `chromium`) for the dashboard tests, driven two ways:

- `dump_dom(url)`: `chromium --headless=new --dump-dom`, the DOM after the page's scripts ran for a virtual-time budget;
- `Chromium`: the browser with its DevTools protocol on a loopback port, driven over a WebSocket by a small client
  written on the standard library (no pip package), so a test can wait for the page to update, type into inputs,
  click buttons and take a screenshot, in real time.

Both fail the test (never skip) when chromium is missing, naming the Debian package.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import struct
import subprocess
import time
import urllib.request
from pathlib import Path

from harness.proxy import OutputReader
from harness.prometheus import require_tool

FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
         "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--metrics-recording-only", "--mute-audio",
         "--hide-scrollbars", "--password-store=basic", "--use-mock-keychain"]


def chromium_binary() -> str:
    return require_tool("chromium", "chromium")


def dump_dom(url: str, user_data_dir: Path, budget_ms: int = 3000, timeout: float = 60) -> str:
    """The page's DOM, serialized, after `budget_ms` of virtual time."""
    out = subprocess.run([chromium_binary(), *FLAGS, f"--user-data-dir={user_data_dir}",
                          f"--virtual-time-budget={budget_ms}", "--dump-dom", url],
                         capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
    assert out.returncode == 0 and out.stdout, \
        f"chromium --dump-dom {url} failed ({out.returncode}): {out.stderr.decode(errors='replace')[-2000:]}"
    return out.stdout.decode()


class WebSocket:
    """A minimal RFC 6455 client: text frames out (masked), text/binary frames in, ping answered."""

    def __init__(self, host: str, port: int, path: str, timeout: float = 30):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n")
                          .encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            assert chunk, f"the DevTools endpoint closed during the WebSocket handshake: {head!r}"
            head += chunk
        head, _, self.buffer = head.partition(b"\r\n\r\n")
        assert head.split(b" ")[1] == b"101", f"WebSocket handshake refused: {head!r}"

    def _read(self, n: int) -> bytes:
        while len(self.buffer) < n:
            chunk = self.sock.recv(1 << 20)
            assert chunk, "the DevTools WebSocket closed"
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def send(self, text: str) -> None:
        payload = text.encode()
        header = bytes([0x81])
        n = len(payload)
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 1 << 16:
            header += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", n)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def recv(self) -> str:
        message = b""
        while True:
            b0, b1 = self._read(2)
            opcode, n = b0 & 0x0F, b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._read(8))[0]
            mask = self._read(4) if b1 & 0x80 else None
            payload = self._read(n)
            if mask:
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            if opcode == 0x9:  # ping
                self.sock.sendall(bytes([0x8A, 0x80 | len(payload)]) + b"\0\0\0\0" + payload)
                continue
            if opcode == 0x8:
                raise ConnectionError("the DevTools WebSocket was closed")
            message += payload
            if b0 & 0x80:
                return message.decode()

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


class Chromium:
    """Headless Chromium with one page, driven over the DevTools protocol."""

    def __init__(self, user_data_dir: Path, width: int = 1200, height: int = 900, timeout: float = 30):
        user_data_dir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen([chromium_binary(), *FLAGS, f"--user-data-dir={user_data_dir}",
                                      "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
                                      f"--window-size={width},{height}", "about:blank"],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.output = OutputReader(self.proc)
        active = user_data_dir / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while not (active.is_file() and len(active.read_text().splitlines()) >= 2):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise AssertionError(f"chromium did not open its DevTools port:\n{self.output.text()}")
            time.sleep(0.05)
        self.port = int(active.read_text().splitlines()[0])
        page = None
        while page is None:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/list", timeout=10) as r:
                page = next((t for t in json.loads(r.read()) if t.get("type") == "page"), None)
            if page is None:
                assert time.monotonic() < deadline, "chromium has no page target"
                time.sleep(0.05)
        path = "/" + page["webSocketDebuggerUrl"].split("/", 3)[3]
        self.ws = WebSocket("127.0.0.1", self.port, path)
        self._next = 0
        self.console: list[str] = []
        self.requested: list[str] = []  # every URL the page asked for (Network.requestWillBeSent)
        self.call("Runtime.enable")
        self.call("Page.enable")
        self.call("Network.enable")
        # the page's viewport (--window-size sizes the window, which is larger)
        self.resize(width, height)

    def resize(self, width: int, height: int) -> None:
        """Sets the page's viewport, as a window of that size would (the layout follows at once)."""
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)

    def call(self, method: str, **params) -> dict:
        self._next += 1
        ident = self._next
        self.ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == ident:
                assert "error" not in message, f"{method}: {message['error']}"
                return message.get("result", {})
            if message.get("method") == "Runtime.consoleAPICalled":
                self.console.append(" ".join(str(a.get("value", a.get("description"))) for a in message["params"]["args"]))
            if message.get("method") == "Network.requestWillBeSent":
                self.requested.append(message["params"]["request"]["url"])
            if message.get("method") == "Runtime.exceptionThrown":
                self.console.append("exception: " + json.dumps(message["params"]["exceptionDetails"])[:500])

    def navigate(self, url: str) -> None:
        result = self.call("Page.navigate", url=url)
        assert not result.get("errorText"), f"navigating to {url}: {result['errorText']}"

    def evaluate(self, expression: str):
        """The value of a JavaScript expression (promises awaited)."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        assert "exceptionDetails" not in result, f"{expression}: {result['exceptionDetails']}"
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 15):
        """Polls a JavaScript expression until it is truthy; returns its value."""
        deadline = time.monotonic() + timeout
        value = None
        while time.monotonic() < deadline:
            try:
                value = self.evaluate(expression)
            except AssertionError as e:  # e.g. the page is still loading: document.body is null
                value = e
            if value and not isinstance(value, AssertionError):
                return value
            time.sleep(0.1)
        raise AssertionError(f"`{expression}` still {value!r} after {timeout}s; console: {self.console[-10:]}")

    def click(self, selector: str) -> None:
        """A real mouse click (press and release) at the middle of the element `selector` selects."""
        box = self.evaluate(f"(() => {{ const r = document.querySelector({json.dumps(selector)}).getBoundingClientRect();"
                            f" return [r.x + r.width / 2, r.y + r.height / 2]; }})()")
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=box[0], y=box[1], button="left", clickCount=1)

    def type_into(self, selector: str, text: str) -> None:
        """Clicks the input `selector`, selects what it holds and types `text` over it, as a user would."""
        self.click(selector)
        self.evaluate(f"document.querySelector({json.dumps(selector)}).select()")
        self.call("Input.insertText", text=text)

    def screenshot(self, path: Path) -> bytes:
        data = base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return data

    def close(self) -> None:
        if getattr(self, "ws", None):
            try:
                self.call("Browser.close")
            except (OSError, ConnectionError, AssertionError):
                pass
            self.ws.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.output.join()

    def __enter__(self) -> "Chromium":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
