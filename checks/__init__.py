"""The executable properties: one module per claim of the paper, plus numerics self-tests."""
