"""Event stores: one interface (:class:`EventStore`), one implementation per backend."""

from .base import ConcurrencyError, EventStore, Recorded, StoreError

__all__ = ["ConcurrencyError", "EventStore", "Recorded", "StoreError"]
