"""Typed models of the protocol files: one module per file, each section a model with its keys documented."""
