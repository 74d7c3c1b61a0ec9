"""Migrations of the cases app."""
