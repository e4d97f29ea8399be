"""The wiring: the server object and every feature, registered explicitly.

Each feature module has `register(server)`; what a feature needs from another (the
host, the publisher, a refresh) it imports or finds declared on `AgrippaServer`.
"""
from __future__ import annotations

from . import commands
from .features import (
    client_commands,
    code_actions,
    completion,
    configuration,
    documents,
    editing,
    expanded,
    formatting,
    graph,
    highlight,
    hover,
    inlay_hints,
    lenses,
    lifecycle,
    navigation,
    rename,
    signature,
    symbols,
    tokens,
)
from .language_server import AgrippaServer, guarded

FEATURES = (lifecycle, documents, configuration, hover, inlay_hints, completion, navigation, rename, symbols,
            code_actions, commands, graph, client_commands, lenses, tokens, signature, highlight, editing,
            formatting, expanded)


def create_server() -> AgrippaServer:
    server = AgrippaServer()
    for feature in FEATURES:
        feature.register(server)
    return server


__all__ = ["AgrippaServer", "FEATURES", "create_server", "guarded"]
