"""安全 — payload encryption, personal-data scrubbing, passwords: what keeps people's data theirs."""
