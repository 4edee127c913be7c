"""Running passes: one check, the extraction workers, and the daemon."""
