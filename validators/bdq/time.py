"""BDQ core tests for the TIME information element."""
