"""findings.json, the documentation and the code in step: every quoted number comes from ``python -m theory.experiments.findings``.

The documentation (README.md and the pages ``docs/*.md`` it links; the findings
live in ``docs/claims.md`` and ``docs/landscape.md``) quotes each finding's
sentences (``quotes``) verbatim; this module fails when a quote is missing from
the documentation (the documentation drifted from ``findings.json``), when
``findings.json`` lacks a registered finding, and when a cheap finding
recomputed now differs from its stored value (``findings.json`` drifted from
the code). Controls: the documentation with one number changed, and a stored
value changed, are both caught.
"""

import json

import pytest

from ..support import SOURCE_TREE, skip_without_source_tree
from theory.experiments.findings import FINDINGS, compute

skip_without_source_tree()

README = SOURCE_TREE / "README.md" if SOURCE_TREE else None
DOCS = SOURCE_TREE / "docs" if SOURCE_TREE else None
STORED = SOURCE_TREE / "findings.json" if SOURCE_TREE else None


def documentation_text():
    """README.md followed by every page of docs/ (sorted by name): the text the quotes must appear in."""
    pages = sorted(DOCS.glob("*.md"))
    assert pages, f"no documentation pages in {DOCS}"
    return "\n\n".join(path.read_text(encoding="utf-8") for path in [README, *pages])


def stored():
    return json.loads(STORED.read_text())["findings"]


def missing_quotes(readme_text, findings):
    """(key, quote) pairs of ``findings`` whose quote is not in ``readme_text`` (see :func:`documentation_text`)."""
    return [(key, q) for key, result in findings.items() for q in result["quotes"] if q not in readme_text]


def drifted(findings, recomputed):
    """Keys whose recomputed quotes differ from the stored ones."""
    return [key for key, result in recomputed.items() if result["quotes"] != findings[key]["quotes"]]


def test_every_registered_finding_is_in_findings_json():
    assert sorted(stored()) == sorted(f.key for f in FINDINGS)


def test_the_readme_quotes_every_finding_verbatim():
    assert missing_quotes(documentation_text(), stored()) == []


def test_the_cheap_findings_recomputed_equal_the_stored_ones():
    cheap = [f.key for f in FINDINGS if f.cheap]
    assert cheap, "at least one finding is cheap enough to recompute here"
    assert drifted(stored(), compute(cheap)) == []


@pytest.mark.negative_control
def test_control_a_changed_number_in_the_readme_is_caught():
    findings = stored()
    key = next(iter(findings))
    quote = findings[key]["quotes"][0]
    changed = documentation_text().replace(quote, quote[:-1] + "#")  # its last character changed
    assert missing_quotes(changed, findings)


@pytest.mark.negative_control
def test_control_a_stale_stored_value_is_caught():
    findings = stored()
    cheap = [f.key for f in FINDINGS if f.cheap]
    stale = {k: dict(v) for k, v in findings.items()}
    stale[cheap[0]]["quotes"] = ["an older number"]
    assert drifted(stale, compute(cheap)) == [cheap[0]]


def test_the_statistical_alternative_is_within_the_measured_effect():
    # theory.experiments.scale's named alternative: at most the lower 95 % limits of the measured escape effect.
    from theory.experiments.scale import ALTERNATIVE_DIFFER, ALTERNATIVE_Q, ESCAPE_RATIO

    row = next(r for r in stored()["escape_by_ratio"]["rows"] if r["ratio"] == ESCAPE_RATIO)
    assert ALTERNATIVE_DIFFER <= row["differ"]["ci95"][0]
    assert ALTERNATIVE_Q <= row["q"]["ci95"][0]
