"""Migrations of the survey app."""
