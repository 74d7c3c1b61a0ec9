"""Bulk setup from spreadsheets: `cityloop import departments|staff|grid-assignments FILE`."""
