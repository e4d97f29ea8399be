"""Expansion: syntax trees → the flat graph IR (rep, stretch, sourced blocks, expose)."""
from agrippa.sema.expand.expander import Options, expand

__all__ = ["Options", "expand"]
