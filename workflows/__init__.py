"""ComplaintWorkflow and the pure case rules it runs. Deterministic: no I/O, no settings."""
