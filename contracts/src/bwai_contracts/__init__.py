"""JSON Schemas of every event on the Build With AI bus."""
