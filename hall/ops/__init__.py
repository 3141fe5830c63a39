"""Running Hall: backups, health, metrics and request logs."""
