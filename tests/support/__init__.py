"""Shared test support: fixture distributions, a local PEP 503 index, isolated pip runs."""
