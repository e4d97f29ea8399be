"""A minimal LSP client over stdio for the benchmarks (bench_lsp.py, bench_hostile.py):
framed JSON-RPC requests and notifications, answers to the server's own requests, and a
hook for its notifications. Reads `/proc` for the server's CPU time and memory."""
from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Any


async def start_server(limit: int = 2**26) -> asyncio.subprocess.Process:
    """`python -m agrippa_lsp` with pipes (stderr dropped); `limit`: the largest line read."""
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "agrippa_lsp", stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL, limit=limit)


class RpcClient:
    """Requests and notifications to a server process; `notification` sees what it sends."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.next_id = 0
        self.pending: dict[int, asyncio.Future] = {}
        self.reader = asyncio.ensure_future(self._read())

    def _send(self, msg: dict) -> None:
        body = json.dumps(msg).encode()
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    async def request(self, method: str, params: Any) -> Any:
        self.next_id += 1
        fut = asyncio.get_running_loop().create_future()
        self.pending[self.next_id] = fut
        self._send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        return await fut

    def notify(self, method: str, params: Any) -> None:
        self._send({"jsonrpc": "2.0", "method": method, "params": params})

    def notification(self, method: str, params: Any) -> None:
        """A notification from the server (publishDiagnostics, progress, logs)."""

    async def _read(self) -> None:
        out = self.proc.stdout
        assert out is not None
        while True:
            length = 0
            while True:
                line = await out.readline()
                if not line:
                    return
                if line in (b"\r\n", b"\n"):
                    break
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            self._dispatch(json.loads(await out.readexactly(length)))

    def _dispatch(self, msg: dict) -> None:
        if "id" in msg and "method" in msg:  # the server asks (configuration, progress, registration)
            result = [{} for _ in msg["params"]["items"]] if msg["method"] == "workspace/configuration" else None
            self._send({"jsonrpc": "2.0", "id": msg["id"], "result": result})
        elif "id" in msg:
            fut = self.pending.pop(msg["id"], None)
            if fut is not None and not fut.done():
                fut.set_result(msg.get("result"))
        elif "method" in msg:
            self.notification(msg["method"], msg.get("params"))

    def cpu_s(self) -> float:
        """The server's CPU time so far (user + system)."""
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def status_mb(self, key: str) -> float:
        """A memory figure of /proc/PID/status (`VmRSS`, `VmHWM`) in MB."""
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024
        return float("nan")
