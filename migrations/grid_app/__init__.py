"""Migrations of the grid_app app."""
