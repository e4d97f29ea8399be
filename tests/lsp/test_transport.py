"""Malformed JSON-RPC frames (issue 12): after each one, a well-formed hover still gets its
answer, and the server's memory stays bounded. Raw bytes over the server's stdio."""
from __future__ import annotations

import asyncio
import json
import os
import sys
import time

import pytest

from agrippa_lsp.convert import path_to_uri

MODEL = ('<model><import from="x" dim="[3, 4]" /><block><node op="MatMul"><input src="x"/>'
         '<params name="W" dim="[4, 2]"/><output name="y"/></node></block></model>')
TAIL = b'{"jsonrpc": "2.0", "method": "$/nothing", "params": {}}'

BAD_FRAMES = {
    "non-numeric length": b"Content-Length: abc\r\n\r\n" + TAIL,
    "negative length": b"Content-Length: -5\r\n\r\n" + TAIL,
    "too-small length": b"Content-Length: 3\r\n\r\n" + TAIL,
    "missing length": b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n" + TAIL,
    "empty length": b"Content-Length: \r\n\r\n" + TAIL,
    "length of 10^12": b"Content-Length: 1000000000000\r\n\r\n" + TAIL,
    "length of 10^30": b"Content-Length: 1" + b"0" * 30 + b"\r\n\r\n" + TAIL,
    "body not JSON": b"Content-Length: 11\r\n\r\nhello world",
    "body not UTF-8": b"Content-Length: 4\r\n\r\n\xff\xfe\xfd\xfc",
    "JSON not a message": b"Content-Length: 6\r\n\r\n[1, 2]",
    "no blank line": b"Content-Length: 12\r\n",  # the next frame's header follows at once
    "header line of 1 MB": b"X-Junk: " + b"A" * 1_000_000 + b"\r\n\r\n",
    "garbage bytes": bytes(range(256)) * 64,
    "request with bad params": (b'{"jsonrpc": "2.0", "id": 9000, "method": "textDocument/hover", '
                                b'"params": {"position": "nowhere"}}'),  # framed below
}


def frame(message: dict) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


class RawServer:
    def __init__(self, proc: asyncio.subprocess.Process):
        self.proc = proc
        self.buffer = b""
        self.seen: list[dict] = []  # every message read

    async def read(self, timeout: float = 20) -> dict:
        end = time.monotonic() + timeout
        while True:
            head, sep, rest = self.buffer.partition(b"\r\n\r\n")
            if sep:
                length = int(next(h.split(b":")[1] for h in head.split(b"\r\n") if h.startswith(b"Content-Length")))
                if len(rest) >= length:
                    self.buffer = rest[length:]
                    self.seen.append(json.loads(rest[:length]))
                    return self.seen[-1]
            chunk = await asyncio.wait_for(self.proc.stdout.read(65536), max(0.1, end - time.monotonic()))
            assert chunk, "the server closed its output"
            self.buffer += chunk

    async def answer(self, msg_id: int, timeout: float = 20) -> dict:
        while True:
            msg = await self.read(timeout)
            if msg.get("id") == msg_id and "method" not in msg:
                return msg
            if "method" in msg and "id" in msg:  # a server request (registrations, progress): accept it
                self.send(frame({"jsonrpc": "2.0", "id": msg["id"], "result": None}))

    def send(self, data: bytes) -> None:
        self.proc.stdin.write(data)

    def rss_mb(self) -> float:
        with open(f"/proc/{self.proc.pid}/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) / 1024


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads the server's RSS from /proc")
async def test_malformed_frames_are_skipped_and_the_next_request_answered(tmp_path):
    (tmp_path / "main.agr").write_text(MODEL)
    uri = path_to_uri(str(tmp_path / "main.agr"))
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "agrippa_lsp", stdin=asyncio.subprocess.PIPE,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    server = RawServer(proc)
    try:
        server.send(frame({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                           "params": {"processId": None, "rootUri": path_to_uri(str(tmp_path)), "capabilities": {}}}))
        assert "capabilities" in (await server.answer(1))["result"]
        server.send(frame({"jsonrpc": "2.0", "method": "initialized", "params": {}}))
        server.send(frame({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
            "uri": uri, "languageId": "agrippa", "version": 1, "text": MODEL}}}))
        hover = {"textDocument": {"uri": uri}, "position": {"line": 0, "character": MODEL.index("MatMul") + 2}}
        for i, (case, bad) in enumerate(BAD_FRAMES.items(), start=100):
            server.send(frame(json.loads(bad)) if case == "request with bad params" else bad)
            t = time.perf_counter()
            server.send(frame({"jsonrpc": "2.0", "id": i, "method": "textDocument/hover", "params": hover}))
            got = await server.answer(i)
            print(f"{case}: hover answered in {(time.perf_counter() - t) * 1000:.0f} ms")
            assert "MatMul" in got["result"]["contents"]["value"], (case, got)
            if case == "request with bad params":  # answered, with an error for its own id
                assert any(m.get("id") == 9000 and "error" in m for m in server.seen)
        assert server.rss_mb() < 600, server.rss_mb()
        assert proc.returncode is None
    finally:
        proc.kill()
        await proc.wait()

