"""The FastAPI service: intake channels, unit task inbox, supervision, citizens, statistics."""
