"""Migrations of the vision app."""
