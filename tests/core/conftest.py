"""Fixtures of the platform's tests (`runners`, for the real processes, is in tests/conftest.py)."""
