"""Jobs: the outbox, handlers by name, arq worker settings, the in-process runner."""
