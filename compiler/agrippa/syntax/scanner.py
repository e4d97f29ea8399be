"""The recovering XML scanner: markup text → a tree with the exact range of every element,
attribute name and attribute value.

Agrippa files are small XML documents, but an editor sees them half-typed. The scanner
never raises: it reports malformed markup as diagnostics and still builds the tree it
could recover. It never expands entities beyond the five predefined ones and character
references, and refuses DTDs, so no file can make it fetch anything or blow up.

`Scanner(sf).run()` reads a whole file; `Scanner.scan(start, stop)` reads one span into
the open elements on its stack (the incremental re-parse, `reparse.py`, uses that).
"""
from __future__ import annotations

import re

from agrippa.base.diagnostics import SUMMARY_CODE, ZERO_RANGE, Diagnostic, Severity
from agrippa.syntax import chars
from agrippa.syntax.tree import Attr, Element, SourceFile

MAX_DEPTH = 256  # deeper nesting is reported and flattened (a 10,000-deep file stays linear)
MAX_DIAGNOSTICS = 1_000  # per file: past it mistakes are only counted (a flood stays fast and small)

_NAME = r"[A-Za-z_:][-A-Za-z0-9_:.]*"
_NAME_RE = re.compile(_NAME)
_TAG_OPEN_RE = re.compile(r"<(" + _NAME + r")")
_END_TAG_RE = re.compile(r"</(" + _NAME + r")?\s*(>)?")
_WS_RE = re.compile(r"\s*")
_FAST_ATTR = r"\s+(" + _NAME + r")\s*=\s*(?:\"([^\"<&]*)\"|'([^'<&]*)')"
_FAST_ATTR_RE = re.compile(_FAST_ATTR)
# One token: a well-formed start tag without entities (white space after it is taken with it: it
# is never content, except inside <desc>), an end tag (the same), white space, text, a comment,
# or a '<' that starts none of these (the careful, recovering path reads from it). Every
# character of a text is in one token, so `finditer` yields them one after another; start tags
# and end tags come first (the most frequent). The first _UNROLLED attributes of a start tag
# are groups of the token itself (name, "value", 'value'), read without a second regex pass;
# any further ones are in the group `more`.
_UNROLLED = 3
_ONE_ATTR = r"(?:\s+(" + _NAME + r")\s*=\s*(?:\"([^\"<&]*)\"|'([^'<&]*)'))?"
_TOKEN_RE = re.compile(
    r"<(?P<tag>" + _NAME + r")" + _ONE_ATTR * _UNROLLED + r"(?P<more>(?:" + _FAST_ATTR + r")*)"
    r"\s*(?P<slash>/?)>(?:\s*(?=<))?"
    r"|</(?P<end>" + _NAME + r")\s*(?P<gt>>)(?:\s*(?=<))?"
    r"|(?P<ws>\s+)(?=<|\Z)"
    r"|(?P<text>[^<]+)"
    r"|<!--(?:(?!--).)*-->"
    r"|(?P<bad><)", re.S)
_STRAY = "'<' must start a tag; write '&lt;' for a literal '<'"
_STRAY_RUN_RE = re.compile(r"(?:\s*<(?![A-Za-z_:!?/]))*")  # more stray '<' (white space between is no content)
# indices into a start tag token's groups() (0-based: group n is groups()[n - 1])
_TAG = _TOKEN_RE.groupindex["tag"] - 1
_FIRST_ATTR = _TAG + 1
_MORE = _TOKEN_RE.groupindex["more"] - 1
# group numbers (found faster than names, in the loop run once per token)
_G_SLASH, _G_END, _G_GT, _G_WS, _G_TEXT, _G_BAD = (_TOKEN_RE.groupindex[k]
                                                   for k in ("slash", "end", "gt", "ws", "text", "bad"))


class Scanner:
    """Reads markup into a SourceFile's tree, reporting and recovering from mistakes."""

    def __init__(self, sf: SourceFile):
        self.sf = sf
        self.text = sf.text
        self.stack: list[Element] = []
        self.too_deep = 0  # how many start tags were flattened because of MAX_DEPTH
        self.stray = False  # an element outside the root was read
        self.more = 0  # mistakes past MAX_DIAGNOSTICS
        self.dropped: dict[tuple[str, str], int] = {}  # (code, message) -> how many past MAX_DIAGNOSTICS

    # -- helpers ---------------------------------------------------------------------------
    def err(self, start: int, end: int, message: str, code: str = "xml-syntax",
            severity: Severity = Severity.ERROR, times: int = 1) -> bool:
        """Report a mistake; False when the file has its fill (it is counted by message then)."""
        if len(self.sf.diagnostics) >= MAX_DIAGNOSTICS:
            key = (code, message)
            if key in self.dropped or len(self.dropped) < MAX_DIAGNOSTICS:
                self.dropped[key] = self.dropped.get(key, 0) + times
            self.more += times
            return False
        self.sf.error(start, max(end, start + 1) if start < len(self.text) else end, code, message, severity)
        return True

    def report(self, start: int, end: int, code: str, message: str, severity: Severity, times: int = 1) -> bool:
        return self.err(start, end, message, code, severity, times)

    def decode(self, raw: str, offset: int) -> str:
        return raw if "&" not in raw else chars.decode(raw, offset, self.report)

    # -- main loop ------------------------------------------------------------------------------
    def run(self) -> None:
        n = len(self.text)
        self.text = chars.check_text(self.text, self.report)
        self.scan(1 if self.text.startswith(chars.BOM) else 0, n)
        stack, sf = self.stack, self.sf
        while stack:
            el = stack.pop()
            self.err(el.start, el.start + 1 + len(el.tag), f"<{el.tag}> is never closed")
            self.finish(el, n)
        if sf.root is None:
            self.err(0, min(n, 1), "the file has no root element (expected <model>)", "xml-empty")
        if self.stray:
            sf.all = list(sf.root.iter())
        if self.more:
            sf.diagnostics.append(Diagnostic(sf.path, ZERO_RANGE, Severity.WARNING, SUMMARY_CODE, (
                f"{self.more:,} more syntax errors in this file are not listed (only the first "
                f"{MAX_DIAGNOSTICS:,} are)"), data={"dropped": self.more, "same": self.dropped}))

    def scan(self, start: int, stop: int) -> int:
        """Read markup from `start` until `stop` is reached; returns where it stopped (a token
        may end past `stop`)."""
        text, sf, lines = self.text, self.sf, self.sf.lines
        every = sf.all
        i = start
        tokens = _TOKEN_RE.finditer
        stack = self.stack
        push, pop = stack.append, stack.pop
        add = every.append
        while i < stop:
            # a run of tokens from i on, one after another (every character is in one); a token
            # whose end moved (white space kept as content, the careful path) starts a new run
            for m in tokens(text, i):
                kind = m.lastindex  # the number of the token's last group: which alternative matched
                end = next_i = m.end()
                if kind == _G_SLASH:  # a well-formed start tag without entities (its last group)
                    g = m.groups()
                    tag = g[_TAG]
                    attrs: dict[str, Attr] = {}
                    name = g[_FIRST_ATTR]
                    if name is not None:
                        k = _FIRST_ATTR
                        while True:  # group k + 1: a name; k + 2, k + 3: its value
                            ns = m.start(k + 1)
                            if name in attrs:
                                self.err(ns, ns + len(name), f"attribute '{name}' is written twice on <{tag}>",
                                         "xml-duplicate-attribute")
                            elif g[k + 1] is not None:
                                attrs[name] = Attr(name, g[k + 1], lines, ns, ns + len(name), m.start(k + 2), g[k + 1])
                            else:
                                attrs[name] = Attr(name, g[k + 2], lines, ns, ns + len(name), m.start(k + 3), g[k + 2])
                            k += 3
                            if k == _MORE:
                                break
                            name = g[k]
                            if name is None:
                                break
                    if g[_MORE]:
                        self.more_attrs(m, attrs, tag)
                    tag_end = m.end(_G_SLASH) + 1
                    if stack and len(stack) < MAX_DEPTH:
                        top = stack[-1]
                        if g[_G_SLASH - 1]:  # self-closing
                            # built in one call: (tag, lines, start, end, start_tag_end, attrs, children, parent, ...)
                            el = Element(tag, lines, i, tag_end, tag_end, attrs, [], top, "", True, True)
                        else:
                            el = Element(tag, lines, i, -1, tag_end, attrs, [], top)
                            push(el)
                            if tag == "desc" and tag_end != end:
                                end = tag_end  # its leading white space is content
                        top.children.append(el)
                        add(el)
                    else:
                        el = Element(tag, lines, i, -1, tag_end, attrs)
                        self.open(el)
                        if g[_G_SLASH - 1]:
                            el.self_closing = el.closed = True
                            el.end = tag_end
                            self.pop(el)
                        elif tag == "desc" and tag_end != end:
                            end = tag_end
                elif kind == _G_GT:  # an end tag
                    if stack and stack[-1].tag == m[_G_END]:
                        el = pop()
                        el.end = m.end(_G_GT)
                        el.closed = True
                        if el.end != end and stack and stack[-1].tag == "desc":
                            end = el.end  # white space inside <desc> is content
                    else:
                        end = self.end_tag(i)
                elif kind == _G_TEXT:
                    self.text_node(i, end)
                elif kind == _G_WS:
                    if stack and stack[-1].tag == "desc":
                        self.text_node(i, end)
                elif kind == _G_BAD:  # not well-formed here: the careful path reports and recovers
                    end = self.markup(i)
                else:  # a comment
                    sf.comments.append((i, end))
                i = end
                if end != next_i or end >= stop:  # a new run from `end`, or done
                    break
        return i

    def more_attrs(self, m: re.Match, attrs: dict[str, Attr], tag: str) -> None:
        """The attributes of a start tag past its first _UNROLLED ones (its group `more`)."""
        lines = self.sf.lines
        for a in _FAST_ATTR_RE.finditer(self.text, m.start(_MORE + 1), m.end(_MORE + 1)):
            name, dq, sq = a.groups()
            ns = a.start(1)
            if name in attrs:
                self.err(ns, ns + len(name), f"attribute '{name}' is written twice on <{tag}>",
                         "xml-duplicate-attribute")
            elif dq is not None:
                attrs[name] = Attr(name, dq, lines, ns, ns + len(name), a.start(2), dq)
            else:
                attrs[name] = Attr(name, sq, lines, ns, ns + len(name), a.start(3), sq)

    def text_node(self, start: int, end: int) -> None:
        chunk = self.text[start:end]
        if self.stack:
            top = self.stack[-1]
            if top.tag == "desc" or chunk.strip():
                top.text += self.decode(chunk, start)
        elif chunk.strip():
            s = start + (len(chunk) - len(chunk.lstrip()))
            self.err(s, start + len(chunk.rstrip()), "text outside the root element")

    def markup(self, lt: int) -> int:
        text = self.text
        if text.startswith("<!--", lt):
            close = text.find("-->", lt + 4)
            if close < 0:
                self.err(lt, lt + 4, "comment is never closed (missing '-->')")
                return len(text)
            self.sf.comments.append((lt, close + 3))
            return close + 3
        if text.startswith("<![CDATA[", lt):
            close = text.find("]]>", lt)
            if close < 0:
                self.err(lt, lt + 9, "CDATA section is never closed")
                return len(text)
            if self.stack:
                self.stack[-1].text += text[lt + 9:close]
            return close + 3
        if text.startswith("<!", lt):
            return self.doctype(lt)
        if text.startswith("<?", lt):
            close = text.find("?>", lt)
            if close < 0:
                self.err(lt, lt + 2, "processing instruction is never closed (missing '?>')")
                return len(text)
            return close + 2
        if text.startswith("</", lt):
            return self.end_tag(lt)
        m = _TAG_OPEN_RE.match(text, lt)
        if m is None:
            self.err(lt, lt + 1, _STRAY)
            if self.more and not (self.stack and self.stack[-1].tag == "desc"):  # a flood: count the run at once
                end = _STRAY_RUN_RE.match(text, lt + 1).end()
                k = text.count("<", lt + 1, end)
                self.more += k
                if ("xml-syntax", _STRAY) in self.dropped:
                    self.dropped["xml-syntax", _STRAY] += k
                return end
            return lt + 1
        return self.start_tag(lt, m)

    def doctype(self, lt: int) -> int:
        text = self.text
        depth = 0
        i = lt + 2
        while i < len(text):
            c = text[i]
            if c == "[":
                depth += 1
            elif c == "]":
                depth -= 1
            elif c == ">" and depth <= 0:
                break
            i += 1
        end = min(i + 1, len(text))
        self.err(lt, min(end, lt + 9),
                 "DOCTYPE declarations are not allowed in Agrippa files; it was ignored "
                 "(entities and DTDs are never loaded)", "xml-doctype")
        return end

    def start_tag(self, lt: int, m: re.Match) -> int:
        sf, text = self.sf, self.text
        tag = m.group(1)
        name_end = m.end()
        el = Element(tag, sf.lines, lt)
        i = name_end
        n = len(text)
        closed_tag = False
        while i < n:
            ws = _WS_RE.match(text, i)
            j = ws.end()
            if j >= n:
                i = j
                break
            c = text[j]
            if c == ">":
                i = j + 1
                closed_tag = True
                break
            if text.startswith("/>", j):
                i = j + 2
                closed_tag = True
                el.self_closing = True
                break
            if c == "<":
                i = j
                break
            am = _NAME_RE.match(text, j)
            if am is None:
                self.err(j, j + 1, f"unexpected '{c}' in <{tag}>")
                i = j + 1
                continue
            if j == i and i != name_end:
                self.err(j, am.end(), "attributes must be separated by white space")
            i = self.attribute(el, am)
        if not closed_tag:
            self.err(lt + 1, name_end, f"<{tag}> tag is not closed with '>'")
        el.start_tag_end = i
        self.open(el)
        if el.self_closing or not closed_tag:
            self.finish(el, i)
            self.pop(el)
        return i

    def attribute(self, el: Element, am: re.Match) -> int:
        text, sf = self.text, self.sf
        name = am.group(0)
        name_start, j = am.start(), am.end()
        n = len(text)
        ws = _WS_RE.match(text, j).end()
        if ws >= n or text[ws] != "=":
            self.err(name_start, j, f"attribute '{name}' has no value (write {name}=\"...\")")
            attr = Attr(name, "", sf.lines, name_start, j, j, "")
            el.attrs.setdefault(name, attr)
            return j
        k = _WS_RE.match(text, ws + 1).end()
        if k >= n or text[k] not in "\"'":
            # unquoted value: take up to white space or tag end
            vm = re.compile(r"[^\s>/<]*").match(text, k)
            self.err(k, max(vm.end(), k + 1), f"the value of '{name}' must be in quotes")
            raw = vm.group(0)
            end = vm.end()
            value_start = k
        else:
            quote = text[k]
            close = text.find(quote, k + 1)
            nl_tag = text.find("<", k + 1)
            if close < 0 or (0 <= nl_tag < close and text.find(">", k + 1) < close):
                self.err(k, k + 1, f"the value of '{name}' is missing its closing {quote}")
                stop = min(x % (n + 1) for x in (text.find(">", k + 1), text.find("\n", k + 1), text.find("\r", k + 1)))
                raw = text[k + 1:stop]
                value_start = k + 1
                end = stop
            else:
                raw = text[k + 1:close]
                value_start = k + 1
                end = close + 1
                if "<" in raw:
                    lt = raw.index("<")
                    self.err(value_start + lt, value_start + lt + 1,
                             f"'<' is not allowed in the value of '{name}'; write '&lt;'")
        value = self.decode(raw, value_start)
        attr = Attr(name, value, sf.lines, name_start, j, value_start, raw)
        if name in el.attrs:
            self.err(name_start, j, f"attribute '{name}' is written twice on <{el.tag}>", "xml-duplicate-attribute")
        else:
            el.attrs[name] = attr
        return end

    def open(self, el: Element) -> None:
        if self.stack:
            parent = self.stack[-1]
            if len(self.stack) >= MAX_DEPTH:
                if not self.too_deep:
                    self.err(el.start, el.start + 1 + len(el.tag),
                             f"elements are nested more than {MAX_DEPTH} deep; deeper ones are ignored",
                             "xml-too-deep")
                self.too_deep += 1
                el.parent = parent
                self.stack.append(el)
                return
            el.parent = parent
            parent.children.append(el)
            self.sf.all.append(el)
        elif self.sf.root is None:
            self.sf.root = el
            self.sf.all.append(el)
        else:
            self.err(el.start, el.start + 1 + len(el.tag), "only one root element is allowed")
            self.stray = True  # its content is not in the tree either
        self.stack.append(el)

    def pop(self, el: Element) -> None:
        if self.stack and self.stack[-1] is el:
            self.stack.pop()

    def finish(self, el: Element, end: int) -> None:
        el.end = end
        el.closed = True

    def end_tag(self, lt: int) -> int:
        text = self.text
        m = _END_TAG_RE.match(text, lt)
        name = m.group(1)
        if name is None:
            self.err(lt, lt + 2, "'</' must be followed by a tag name")
            return lt + 2
        end = m.end()
        if m.group(2) is None:
            self.err(lt, end, f"</{name}> is not closed with '>'")
        for depth in range(len(self.stack) - 1, -1, -1):
            if self.stack[depth].tag == name:
                while len(self.stack) > depth + 1:
                    inner = self.stack.pop()
                    self.err(inner.start + 1, inner.start + 1 + len(inner.tag),
                             f"<{inner.tag}> is never closed (found </{name}>)")
                    self.finish(inner, lt)
                el = self.stack.pop()
                self.finish(el, end)
                return end
        self.err(lt, end, f"</{name}> closes nothing: no <{name}> is open")
        return end
