"""Markup text → syntax trees with exact ranges; incremental re-parse after an edit."""
from agrippa.syntax.parser import parse
from agrippa.syntax.tree import Attr, Element, LineIndex, SourceFile

__all__ = ["Attr", "Element", "LineIndex", "SourceFile", "parse"]
