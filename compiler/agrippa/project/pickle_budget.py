"""The work a pickle may ask for, counted before it is unpickled.

A few hundred bytes of pickle can describe a tuple whose flattened form has 2^60 items
(each level a tuple holding the previous level twice, through the memo). Unpickling it is
cheap, but hashing it (as a dict key) or walking it (a repr, a type check) never ends, and
pickle's C unpickler cannot be interrupted. So every pickle is first read opcode by opcode,
without building anything: each value on the simulated stack carries its *weight* (how many
objects it holds, counting shared ones each time they are reached, as hashing does), and
the file is refused when

- one value weighs more than `MAX_WEIGHT` (a DAG bomb, whatever it is used for),
- the hashing it would make (dict keys, set items) exceeds `MAX_WORK`, or
- it builds more than `MAX_OBJECTS` containers.

Weights pickles (a dict of arrays, torch's records) stay far below each limit. Byte
payloads are skipped, not read: the scan costs time linear in the number of opcodes.

Shared by the weights readers (backend/weights) and the shapes-only header reader
(`weights_header.py`), which must not import the backend.
"""
from __future__ import annotations

import pickletools
import struct
from typing import IO


class PickleRefused(ValueError):
    """A pickle whose unpickling would cost more than the budget (the weights readers turn
    it into their own error)."""


DEFAULT_MAX_BYTES = 4 * 1024**3
"""Weights files larger than this are refused."""
SLACK = 64 * 1024**2
"""Array data a pickle may yield beyond four times its size."""

MAX_WEIGHT = 1 << 24
MAX_WORK = 1 << 26
MAX_OBJECTS = 1 << 23

_OPS = {op.code.encode("latin1"): op for op in pickletools.opcodes}
_LENGTH = {-2: ("<B", 1), -3: ("<i", 4), -4: ("<I", 4), -5: ("<Q", 8)}  # length-prefixed payloads
_TO_MARK = {"TUPLE", "LIST", "DICT", "FROZENSET", "INST", "OBJ", "APPENDS", "SETITEMS", "ADDITEMS", "POP_MARK"}
_HASHED = {"DICT", "SETITEMS", "ADDITEMS", "FROZENSET"}
_GET = {"GET", "BINGET", "LONG_BINGET"}
_PUT = {"PUT", "BINPUT", "LONG_BINPUT"}


class Scan:
    """One pickle's opcodes, simulated on a stack of weights."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.stack: list[list[int]] = []  # each value a one-item list: appends change it in place
        self.marks: list[int] = []
        self.memo: dict[object, list[int]] = {}
        self.work = 0
        self.objects = 0

    def refuse(self, why: str) -> PickleRefused:
        return PickleRefused(f"{self.name} is refused: {why}; it is not a plain weights file "
                            "(a pickle over the loading budget)")

    def value(self, weight: int) -> list[int]:
        if weight > MAX_WEIGHT:
            raise self.refuse(f"it builds an object of more than {MAX_WEIGHT:,} parts through shared references")
        self.objects += 1
        if self.objects > MAX_OBJECTS:
            raise self.refuse(f"it builds more than {MAX_OBJECTS:,} objects")
        return [weight]

    def hashed(self, items: list[list[int]]) -> None:
        self.work += sum(w[0] for w in items)
        if self.work > MAX_WORK:
            raise self.refuse(f"hashing its keys would take more than {MAX_WORK:,} steps")

    def pop(self, n: int) -> list[list[int]]:
        if n > len(self.stack) - (self.marks[-1] if self.marks else 0):
            raise ValueError("malformed pickle stack")  # the unpickler reports it
        if n == 0:
            return []
        items = self.stack[-n:]
        del self.stack[-n:]
        return items

    def to_mark(self) -> list[list[int]]:
        if not self.marks:
            raise ValueError("no mark")
        at = self.marks.pop()
        items = self.stack[at:]
        del self.stack[at:]
        return items

    def step(self, op: pickletools.OpcodeInfo, arg: object) -> None:
        name = op.name
        if name == "MARK":
            self.marks.append(len(self.stack))
        elif name in _TO_MARK:
            items = self.to_mark()
            total = sum(w[0] for w in items)
            if name in _HASHED:
                self.hashed(items[::2] if name in ("DICT", "SETITEMS") else items)
            if name in ("APPENDS", "SETITEMS", "ADDITEMS"):
                target = self.pop(1)[0]
                target[0] += total
                self.stack.append(self.value(target[0]) if target[0] > MAX_WEIGHT else target)
            elif name != "POP_MARK":
                self.stack.append(self.value(1 + total))
        elif name in _GET:
            self.stack.append(self.memo.get(arg, [1]))
        elif name in _PUT:
            if self.stack:
                self.memo[arg] = self.stack[-1]
        elif name == "MEMOIZE":
            if self.stack:
                self.memo[len(self.memo)] = self.stack[-1]
        elif name == "DUP":
            self.stack.append(self.pop(1)[0])
            self.stack.append(self.stack[-1])
        elif name in ("SETITEM", "APPEND", "BUILD"):
            items = self.pop(3 if name == "SETITEM" else 2)
            if name == "SETITEM":
                self.hashed(items[1:2])
            target = items[0]
            target[0] += sum(w[0] for w in items[1:])
            self.stack.append(self.value(target[0]) if target[0] > MAX_WEIGHT else target)
        elif name == "POP" and self.marks and len(self.stack) == self.marks[-1]:
            self.marks.pop()  # as the unpickler does: POP with nothing above the mark drops the mark
        elif name in ("STOP", "PROTO", "FRAME"):
            if name == "STOP":
                self.pop(1)
        else:  # any other op: pops its inputs, pushes results weighing them all
            items = self.pop(len(op.stack_before))
            total = 1 + sum(w[0] for w in items)
            for _ in op.stack_after:
                self.stack.append(self.value(total))


def _arg(op: pickletools.OpcodeInfo, file: IO[bytes]) -> object:
    a = op.arg
    if a is None:
        return None
    if a.n in _LENGTH:  # a payload: skipped
        fmt, size = _LENGTH[a.n]
        raw = file.read(size)
        if len(raw) != size:
            raise EOFError
        n = struct.unpack(fmt, raw)[0]
        if n < 0:
            raise ValueError("negative length")
        file.seek(n, 1)
        return None
    return a.reader(file)


def check_budget(file: IO[bytes], name: str) -> None:
    """Scan the pickle at `file`'s position (left where it was) and raise PickleRefused if
    unpickling it would cost more than the budget. Malformed pickles are left to the
    unpickler, which reports them."""
    start = file.tell()
    scan = Scan(name)
    try:
        while True:
            code = file.read(1)
            op = _OPS.get(code)
            if op is None:
                return
            scan.step(op, _arg(op, file))
            if op.name == "STOP":
                return
    except PickleRefused:
        raise
    except Exception:  # truncated or malformed: the real unpickler says what is wrong
        return
    finally:
        file.seek(start)
