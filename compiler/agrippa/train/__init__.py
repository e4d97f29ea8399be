"""Training Agrippa projects from the `[train]` table of `agrippa.toml`.

`validate_train_config` (no torch) checks the table for the CLI and the language server;
`agrippa.train.cli` is `agrippa train`, `agrippa.train.infer` is `agrippa run`. torch is
imported only when training starts.
"""
from __future__ import annotations

from agrippa.project.train_config import TrainConfig, validate_train_config

__all__ = ["TrainConfig", "validate_train_config"]
