"""Ratings of every service (好差评), bad reviews followed to the end, and what managers see of them."""
