"""The wiring: the server object and every feature, registered explicitly.

Each feature module has `register(server)`; what a feature needs from another (the
host, the publisher, a refresh) it imports or finds declared on `AgrippaServer`.
"""
from __future__ import annotations

from . import commands
from .features import (
    code_actions,
    completion,
    configuration,
    documents,
    graph,
    hover,
    inlay_hints,
    lifecycle,
    navigation,
    rename,
    symbols,
)
from .language_server import AgrippaServer, guarded

FEATURES = (lifecycle, documents, configuration, hover, inlay_hints, completion, navigation, rename, symbols,
            code_actions, commands, graph)


def create_server() -> AgrippaServer:
    server = AgrippaServer()
    for feature in FEATURES:
        feature.register(server)
    return server


__all__ = ["AgrippaServer", "FEATURES", "create_server", "guarded"]
