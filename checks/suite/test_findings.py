"""findings.json, the documentation and the code in step: every quoted number comes from ``python -m theory.experiments.findings``.

The documentation (README.md and the pages ``docs/*.md`` it links; the findings
live in ``docs/claims.md`` and ``docs/landscape.md``) quotes each finding's
sentences (``quotes``) verbatim; this module fails when a quote is missing from
the documentation (the documentation drifted from ``findings.json``), when
``findings.json`` lacks a registered finding, and when a cheap finding
recomputed now differs from its stored value (``findings.json`` drifted from
the code). Every finding's smoke run (the same code over a few draws, about a
second each) is recomputed and compared with its stored one: its quotes and every
count, size and label, so that a change to any finding's code shows here, not
only when the full command is run again; its proportions and sizes are checked
against what was asked. Controls: the documentation with one number changed, a
stored value changed, and a smoke run at another size are all caught.
"""

import json
import math

import numpy as np
import pytest

from ..support import SOURCE_TREE, skip_without_source_tree
from theory.experiments.findings import FINDINGS, compute, fmt, main, pct

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


# --- the smoke runs ------------------------------------------------------------------------

SMOKE = {f.key: f for f in FINDINGS}


#: What :func:`exact_leaves` keeps of a float: that there is one.
FLOAT = "<float>"


def exact_leaves(value, path=""):
    """``{path: leaf}`` of every leaf of a finding's result, a float as :data:`FLOAT` (counts, sizes, labels, quotes).

    Floats are compared through the quotes, which print them as the documentation does, and by
    their place (a float that moves, disappears or changes its key differs); the rest must
    agree exactly. The timing (``seconds``) is left out.
    """
    if isinstance(value, dict):
        return {k: v for key, item in value.items() if key != "seconds"
                for k, v in exact_leaves(item, f"{path}/{key}").items()}
    if isinstance(value, list):
        return {k: v for i, item in enumerate(value) for k, v in exact_leaves(item, f"{path}[{i}]").items()}
    return {path: FLOAT} if isinstance(value, float) else {path: value}


def smoke_differences(stored_run, recomputed_run):
    """Paths where two runs of a finding differ: in a quote, or in a leaf :func:`exact_leaves` keeps."""
    a, b = exact_leaves(stored_run), exact_leaves(recomputed_run)
    return sorted(path for path in a.keys() | b.keys() if a.get(path, object()) != b.get(path, object()))


def proportions(value):
    """Every ``{successes, n, rate, ci95}`` dict inside a finding's result."""
    if isinstance(value, dict):
        if {"successes", "n", "rate", "ci95"} <= value.keys():
            yield value
        for item in value.values():
            yield from proportions(item)
    elif isinstance(value, list):
        for item in value:
            yield from proportions(item)


def stored_smoke():
    return json.loads(STORED.read_text())["smoke"]


def sizes(key, run, smoke):
    """(what the run reports as its size, what its smoke arguments ask for), per finding."""
    widths, draws = smoke.get("widths"), smoke.get("draws")
    return {
        "gradient_floor_failures": lambda: ([(r["d"], r["n"]) for r in run["rows"]], [(d, draws) for d in smoke["dims"]]),
        "lemma_4_2_largest_ratio": lambda: (run["n"], 8 * (draws // 8)),
        "theorem_3_1_rates": lambda: ((run["n"], len(run["time_exponents"]), run["fractions"]),
                                      (draws, draws, list(smoke["fractions"]))),
        "escape_by_ratio": lambda: (run["n"], draws),
        "landscape_minima": lambda: (run["n"], draws),
        "per_draw_monotonicity": lambda: (run["pairs"], smoke["pairs"]),
        "threshold_by_width": lambda: (([r["m"] for r in run["rows"]], run["draws"]), (list(widths), draws)),
        "certificate_ratio": lambda: ([run[m]["summary"]["n"] for m in ("auto", "contraction")], [len(widths) * draws] * 2),
        "tau_against_regime": lambda: (run["n"], draws),
        "threshold_blind_spots": lambda: (run["quotes"][0].split(" of ")[1], f"{len(widths) * draws} draws"),
    }[key]()


def test_every_finding_has_a_stored_smoke_run():
    assert sorted(stored_smoke()) == sorted(SMOKE)
    assert all(f.smoke for f in FINDINGS), "every finding has a smoke size"


def other_numerics():
    """Why the stored smoke runs do not apply here (another numpy or scipy release), or None.

    The smoke runs are compared exactly (their quotes, counts and sizes); rounding of another
    numpy or scipy release may move a printed digit, so they are compared under the releases
    findings.json records (the lock's).
    """
    import scipy

    recorded = json.loads(STORED.read_text())["environment"]
    here = {"numpy": np.__version__, "scipy": scipy.__version__}
    differ = {k: (recorded.get(k), v) for k, v in here.items() if recorded.get(k) != v}
    return None if not differ else "stored with " + ", ".join(f"{k} {a}, here {b}" for k, (a, b) in differ.items())


@pytest.mark.parametrize("key", sorted(SMOKE))
def test_each_finding_recomputed_at_its_smoke_size_equals_its_stored_smoke_run(key):
    if other_numerics():
        pytest.skip(other_numerics())
    run = compute([key], smoke=True)[key]
    assert smoke_differences(stored_smoke()[key], run) == []
    assert run["quotes"] == stored_smoke()[key]["quotes"]
    reported, asked = sizes(key, run, SMOKE[key].smoke)
    assert reported == asked
    for share in proportions(run):
        assert share["rate"] == share["successes"] / share["n"]
        assert share["ci95"][0] <= share["rate"] <= share["ci95"][1]


def test_the_command_stores_the_findings_and_their_smoke_runs_and_merges_a_subset(tmp_path, capsys):
    out = tmp_path / "findings.json"
    key = "lemma_4_2_largest_ratio"
    assert main(["--only", key, "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    assert sorted(data) == ["command", "environment", "findings", "smoke"]
    assert list(data["findings"]) == [key] and list(data["smoke"]) == [key]
    assert data["findings"][key]["n"] == 8 * (200_000 // 8) and data["smoke"][key]["n"] == 800
    assert data["findings"][key]["claim"] == "lemma_4_2"
    assert data["command"] == "python -m theory.experiments.findings"
    assert f"{key} (" in capsys.readouterr().out
    other = "tau_against_regime"
    assert main(["--smoke", "--only", other, "--out", str(out)]) == 0
    merged = json.loads(out.read_text())
    assert list(merged["findings"]) == [key]
    assert list(merged["smoke"]) == sorted([key, other], key=list(SMOKE).index)
    assert merged["smoke"][key] == data["smoke"][key]


def test_the_command_lists_the_findings_and_rejects_an_unknown_key(tmp_path, capsys):
    assert main(["--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[:2] for line in lines] == [[f.key, f.claim] for f in FINDINGS]
    with pytest.raises(SystemExit) as stop:
        main(["--only", "no_such_finding", "--out", str(tmp_path / "f.json")])
    assert stop.value.code == 2 and "no_such_finding" in capsys.readouterr().err
    assert not (tmp_path / "f.json").exists()


@pytest.mark.parametrize("value, digits, text", [
    (1.0 * 100, 2, "100"), (99.96, 2, "100"), (0.5, 3, "0.5"), (123.4, 3, "123"), (12345.6, 3, "12346"),
    (0.0012345, 3, "0.00123"), (1e-4, 3, "1.00e-04"), (2e5, 3, "2.00e+05"), (-150.0, 2, "-150"), (0, 3, "0"),
    (math.inf, 3, "inf"), (-math.inf, 3, "-inf"), (math.nan, 3, "nan"), (None, 3, "nan"),
])
def test_numbers_print_with_their_significant_digits_and_no_exponent_for_ordinary_sizes(value, digits, text):
    assert fmt(value, digits) == text


def test_a_proportion_prints_as_a_percentage():
    assert (pct(1.0), pct(0.034), pct(0.0)) == ("100 %", "3.4 %", "0 %")


@pytest.mark.negative_control
def test_control_a_smoke_run_at_another_size_is_caught():
    key = "escape_by_ratio"
    assert smoke_differences(stored_smoke()[key], compute_at(key, draws=SMOKE[key].smoke["draws"] + 1))


def compute_at(key, **kwargs):
    return json.loads(json.dumps(SMOKE[key].measure(**kwargs), default=float))


def test_the_smoke_command_stores_every_smoke_run_and_keeps_the_full_findings(tmp_path, capsys):
    out = tmp_path / "findings.json"
    out.write_text(json.dumps({"findings": {"kept": {"quotes": ["a full finding"]}}}))
    assert main(["--smoke", "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["findings"] == {"kept": {"quotes": ["a full finding"]}}  # --smoke leaves the full findings alone
    assert list(data["smoke"]) == [f.key for f in FINDINGS]
    assert data["command"] == "python -m theory.experiments.findings" and "numpy" in data["environment"]
    printed = capsys.readouterr().out
    assert all(f"{f.key} (" in printed for f in FINDINGS)


def test_the_command_help_names_its_options(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert stop.value.code == 0 and text.startswith("usage: python -m theory.experiments.findings")
    for phrase in ("list the findings and exit", "comma-separated keys to recompute", "what the checks recompute"):
        assert phrase in text


@pytest.mark.negative_control
def test_control_a_float_under_another_key_or_dropped_is_caught():
    run = stored_smoke()["theorem_3_1_rates"]
    moved = {("median_distance_slopeXX" if k == "median_distance_slope" else k): v for k, v in run.items()}
    assert smoke_differences(run, moved) == ["/median_distance_slope", "/median_distance_slopeXX"]
    dropped = {k: v for k, v in run.items() if k != "distance_slopes"}
    assert smoke_differences(run, dropped) == [f"/distance_slopes[{i}]" for i in range(len(run["distance_slopes"]))]
