"""Self-tests of the numerics in ``theory/`` (``test_numerics_<module>.py``) and the bad-input table."""
