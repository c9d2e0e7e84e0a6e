"""The report's figures: one module per figure family, each function returning a matplotlib Figure."""
