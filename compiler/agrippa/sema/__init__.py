"""Meaning: values, the op catalog, expansion to the flat IR, checks, shapes, the schema."""
