"""Chinese web pages for the center and the units, served by the API (no separate build)."""
