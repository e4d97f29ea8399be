"""The whole-file verdict of libxml2 on `resources/agrippa.xsd`: one C call that says
whether a file is valid, without building xmlschema's model of the XSD.

A file just opened is usually valid, and validating it unit by unit in Python costs
tens of milliseconds for a large model; libxml2 answers in a few. It only ever answers
"valid" or "look closer": where a file is invalid, `validate.py`'s unit-by-unit
validation finds each mistake and its exact range. libxml2 releases the GIL while it
parses and validates.

The file is validated while it is parsed (a parser bound to the schema), not as a tree
afterwards: lxml gives each error of a tree validation its element's path, found by
counting siblings, so 30,000 mistakes in one block cost seconds (quadratic); while
parsing, the verdict costs one linear pass whatever the file holds.
"""
from __future__ import annotations

import importlib.resources
import threading
from typing import Any

from lxml import etree

from agrippa.syntax.tree import SourceFile

# entities are never resolved, nothing is fetched, no DTD is loaded (and the files that
# reach here parsed without a diagnostic, so they have no DOCTYPE at all)
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                          remove_comments=True)
_lock = threading.Lock()
_validator: Any = False  # False: not loaded yet; None: libxml2 refused the XSD


def _load() -> Any:
    """A parser that validates against the XSD as it reads (None if libxml2 refused it)."""
    global _validator
    if _validator is False:
        try:
            res = importlib.resources.files("agrippa").joinpath("resources/agrippa.xsd")
            schema = etree.XMLSchema(etree.fromstring(res.read_bytes(), _PARSER))
            _validator = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                                         remove_comments=True, schema=schema)
        except Exception:  # noqa: BLE001 - the unit path does all the work then
            _validator = None
    return _validator


def is_valid(sf: SourceFile) -> bool:
    """True when libxml2 finds the whole file valid; False on an error or any doubt.

    Only a file that parsed without any syntax diagnostic is judged.
    """
    if sf.diagnostics or sf.root is None:
        return False
    text = sf.text
    if text.startswith("<?xml"):  # a declared encoding means nothing to a decoded str
        end = text.find("?>")
        if end < 0:
            return False
        text = " " * (end + 2) + text[end + 2:]
    with _lock:  # one parser (and validation context) for every thread
        validator = _load()
        if validator is None:
            return False
        try:
            etree.fromstring(text, validator)
            return True
        except Exception:  # noqa: BLE001 - invalid, or any parser complaint: judge unit by unit
            return False
