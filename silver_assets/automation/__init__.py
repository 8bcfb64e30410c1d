"""Jobs, schedules and sensors that keep the snapshots fresh."""
