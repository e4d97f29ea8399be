"""The ground every layer stands on: diagnostics as data, text positions, suggestions."""
