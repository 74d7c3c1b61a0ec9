"""Short-lived shared state with expiry: Redis when configured, else a database table."""

from core.kv.service import DatabaseKV, KeyValue, RedisKV

__all__ = ["DatabaseKV", "KeyValue", "RedisKV"]
