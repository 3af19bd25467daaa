"""BDQ core tests for the SPACE information element."""
