"""Simulator (placeholder, being written)."""
