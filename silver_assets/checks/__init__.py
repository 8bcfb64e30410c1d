"""Contract checks (pandera) of the Silver sources."""
