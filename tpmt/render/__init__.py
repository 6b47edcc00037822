"""Renderers: pure functions from a Report (or rule-set listing) to text."""
