"""BDQ core tests for the OTHER information element."""
