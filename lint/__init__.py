"""Development checks that run in `make test` (not part of the product)."""
