"""Tortoise native migrations, one folder per app; see README (Migrations)."""
