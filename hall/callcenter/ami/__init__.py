"""Phone calls through Asterisk's Manager Interface: framing, a self-healing client, and call tracking."""
