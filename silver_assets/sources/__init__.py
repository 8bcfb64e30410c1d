"""The Silver datasets as observable source assets."""
