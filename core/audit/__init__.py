"""The audit log: who changed the platform's setup, and who read what only some roles may read."""
