"""Fixtures of the suite's own checks."""

import pytest

from .report_support import FAKE_CLAIM, FAKE_CONFTEST


@pytest.fixture
def project(tmp_path):
    (tmp_path / "checks").mkdir()
    (tmp_path / "checks" / "test_lemma_4_2.py").write_text(FAKE_CLAIM)
    (tmp_path / "checks" / "test_numerics_fake.py").write_text("def test_ok():\n    pass\n")
    (tmp_path / "conftest.py").write_text(FAKE_CONFTEST)
    (tmp_path / "pytest.ini").write_text("[pytest]\nmarkers =\n    negative_control: control\n")
    return tmp_path
