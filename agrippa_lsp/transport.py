"""Reading JSON-RPC frames from stdin, whatever arrives.

pygls' reader trusts its input: a body that does not parse is dropped without a word,
a malformed `Content-Length` leaves it silent, and a huge one is allocated as asked
(`Content-Length: 1000000000000` ends in MemoryError). This reader:

- reads header lines of at most MAX_HEADER_LINE bytes, so no line grows without bound;
- finds `Content-Length:` anywhere in a header line: after a frame it could not read
  (no length, a wrong one), the body runs into the next frame's header, and the
  reader picks that header up again there;
- skips, with a log line, a frame whose length is missing, not a number, negative or
  over MAX_BODY (a body over the cap is never read into memory: the reader looks for
  the next header instead);
- answers a body that is not JSON with a JSON-RPC parse error (id null), and a request
  whose params do not fit its method with an error for that request's id.
"""
from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
from typing import Any, BinaryIO

from pygls.exceptions import JsonRpcException
from pygls.protocol import JsonRPCProtocol

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024 * 1024  # bytes; LSP buffers over the project's file cap are refused later anyway
MAX_HEADER_LINE = 64 * 1024
_LENGTH_RE = re.compile(rb"Content-Length:[ \t]*([^\r\n]*?)[ \t]*\r?\n?$", re.I)
PARSE_ERROR, INVALID_REQUEST, INVALID_PARAMS = -32700, -32600, -32602


class StdinReader:
    """Blocking reads of stdin, run in an executor: bounded lines and exact bodies."""

    def __init__(self, stdin: BinaryIO, executor: Any = None):
        self.stdin, self.executor = stdin, executor

    async def readline(self) -> bytes:
        return await asyncio.get_running_loop().run_in_executor(self.executor, self.stdin.readline, MAX_HEADER_LINE)

    async def readexactly(self, n: int) -> bytes:
        return await asyncio.get_running_loop().run_in_executor(self.executor, self.stdin.read, n)


def content_length(line: bytes) -> tuple[bool, int | None]:
    """(whether `line` holds a Content-Length header, its valid value or None)."""
    m = _LENGTH_RE.search(line)
    if m is None:
        return False, None
    raw = m.group(1)
    return True, int(raw) if raw.isdigit() and len(raw) < 20 else None


async def read_frames(stop: threading.Event, reader: StdinReader, protocol: JsonRPCProtocol) -> None:
    """The main loop: read frames until EOF (or `stop`) and hand each message to `protocol`."""
    length: int | None = None
    seen_length = False
    while not stop.is_set():
        line = await reader.readline()
        if not line:
            break
        found, value = content_length(line)
        if found:  # a header (maybe glued to the tail of a frame that could not be read)
            seen_length, length = True, value
            if value is None:
                log.warning("skipping a frame: bad Content-Length header %r", line[-80:])
            continue
        if line.strip():
            continue  # another header (Content-Type), or the rest of an unreadable frame
        if not seen_length:
            log.warning("skipping a frame without a Content-Length header")
            continue
        seen_length, size, length = False, length, None
        if size is None:
            continue
        if size > MAX_BODY:
            log.warning("skipping a frame of %d bytes (over the %d-byte cap); looking for the next header",
                        size, MAX_BODY)
            reply_error(protocol, None, INVALID_REQUEST, f"message of {size} bytes refused (the cap is {MAX_BODY})")
            continue
        body = await reader.readexactly(size)
        if len(body) < size:
            break  # EOF inside a body
        handle_body(protocol, body)


def handle_body(protocol: JsonRPCProtocol, body: bytes) -> None:
    try:
        message = json.loads(body, object_hook=protocol.structure_message)
    except JsonRpcException as e:  # JSON, but not a message its method takes
        log.warning("unreadable message: %s", e)
        msg_id = _request_id(body)
        if msg_id is not None:
            reply_error(protocol, msg_id, INVALID_PARAMS, f"invalid params: {e}")
        return
    except ValueError as e:  # not JSON (or not UTF-8): a length too small, or garbage
        log.warning("skipping a body that is not JSON: %s", e)
        reply_error(protocol, None, PARSE_ERROR, "parse error: the message body is not JSON")
        return
    if not hasattr(message, "jsonrpc"):
        log.warning("skipping a JSON body that is not a JSON-RPC message")
        reply_error(protocol, None, INVALID_REQUEST, "not a JSON-RPC message")
        return
    try:
        protocol.handle_message(message)
    except Exception:
        log.exception("handling a message failed")


def _request_id(body: bytes) -> int | str | None:
    try:
        data = json.loads(body)
    except ValueError:
        return None
    msg_id = data.get("id") if isinstance(data, dict) and "method" in data else None
    return msg_id if isinstance(msg_id, (int, str)) and not isinstance(msg_id, bool) else None


def reply_error(protocol: JsonRPCProtocol, msg_id: int | str | None, code: int, message: str) -> None:
    protocol._send_data({"jsonrpc": "2.0", "id": msg_id, "error": {"code": code, "message": message}})
