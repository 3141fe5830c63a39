"""Hall: queue numbers, calls, screens, ratings and one complaint desk for a government service hall."""

__version__ = "0.1.0"
