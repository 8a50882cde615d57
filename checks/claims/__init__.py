"""The claims of the paper: one module per lemma, theorem, corollary or section (``test_<kind>_<number>.py``)."""
