"""BDQ core tests for the NAME information element."""
