"""A generated project: its files, its agrippa.toml, and (optionally) the input values."""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

INDEX = "main.agr"


@dataclass
class Project:
    files: dict[str, str]  # relative path -> text; INDEX is the index file
    bindings: dict[str, int] = field(default_factory=dict)
    opset: int = 13
    feeds: dict[str, np.ndarray] = field(default_factory=dict)  # graph input -> value (else random)
    kind: str = "gen"  # which generator made it: gen, catalog, mutant
    intent: str = ""  # what the generator meant: "" for a valid model, else the deliberate breakage
    note: str = ""

    def toml(self) -> str:
        text = f'[model]\nindex = "{INDEX}"\nopset = {self.opset}\n'
        if self.bindings:
            text += "\n[bindings]\n" + "".join(f"{k} = {v}\n" for k, v in self.bindings.items())
        return text

    def write(self, folder: str) -> str:
        """Write the project into `folder` (created); returns the folder."""
        os.makedirs(folder, exist_ok=True)
        for rel, text in self.files.items():
            path = os.path.join(folder, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        with open(os.path.join(folder, "agrippa.toml"), "w", encoding="utf-8") as f:
            f.write(self.toml())
        if self.feeds:
            np.savez(os.path.join(folder, "inputs.npz"), **self.feeds)
        return folder
