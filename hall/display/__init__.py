"""Showing the hall's state: live push to pages (and, next, the hall's screens and voice)."""
