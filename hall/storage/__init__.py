"""Storage shared by every domain: the database, its writer and migrations."""

from .database import Database
from .migrations import Schema
from .writer import Event, Tx

__all__ = ["Database", "Event", "Schema", "Tx"]
