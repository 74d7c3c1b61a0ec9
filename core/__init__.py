"""Shared infrastructure of cityloop; imports no sibling package."""
