"""``python -m theory.conformance``: the report's files, its schema, and an attack brought by the user.

The command runs on the attacks given with ``--attack module:Class`` (here the project's PGD and a
broken one, so that no optional library is needed): ``conformance.json`` validates against
:data:`theory.attacks.conformance.SCHEMA_PATH`, the project's PGD conforms on every property, the
broken attack deviates on the property meant for it with a shrunk reproducer in both files, and a
malformed ``--attack`` is a usage error (exit status 2). The libraries that are not installed are
listed as not run (a row and a note); without ``--out`` the files go to ``report/``, into a folder
made as needed; the Markdown starts with its title and ends with one newline; ``--help`` says what
each option does; the convergence properties are searched up to d = 64, the others over every d.
"""

import json
import re

import pytest

from theory.attacks.conformance import SCHEMA_PATH, load_attack, main
from theory.attacks.properties import PROPERTIES


def run(tmp_path, *attacks, examples=3):
    argv = ["--out", str(tmp_path), "--examples", str(examples), "--no-libraries"]
    for attack in attacks:
        argv += ["--attack", attack]
    assert main(argv) == 0
    return json.loads((tmp_path / "conformance.json").read_text()), (tmp_path / "conformance.md").read_text()


def test_the_report_of_the_projects_pgd_and_a_broken_start(tmp_path):
    jsonschema = pytest.importorskip("jsonschema")
    report, text = run(tmp_path, "theory.attacks:ProjectPGD", "theory.attacks:SphereStart")
    jsonschema.validate(report, json.loads(SCHEMA_PATH.read_text()))
    reference, broken = report["attacks"]
    assert {v["status"] for v in reference["properties"].values()} == {"conforms"}
    assert set(reference["properties"]) == set(PROPERTIES)
    start = broken["properties"]["uniform_start"]
    assert start["status"] == "deviates" and start["reproducer"]["d"] == 2  # shrunk to the smallest d
    assert "### control: start on the sphere: uniform_start" in text and start["reproducer"]["problem"] in text


def test_control_a_report_that_loses_a_deviation_fails_the_schema_or_the_check(tmp_path):
    jsonschema = pytest.importorskip("jsonschema")
    report, _ = run(tmp_path, "theory.attacks:SphereStart", examples=2)
    verdict = report["attacks"][0]["properties"]["uniform_start"]
    verdict["status"] = "maybe"  # injected bug: a status outside the three
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(report, json.loads(SCHEMA_PATH.read_text()))


@pytest.mark.parametrize("spec", ["theory.attacks.ProjectPGD", "theory.attacks:NoSuchAttack", "a:b:c"])
def test_a_malformed_attack_is_a_usage_error(spec, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--no-libraries", "--attack", spec])
    assert exit_.value.code == 2 and "--attack" in capsys.readouterr().err


def test_an_object_that_does_not_fit_the_protocol_is_refused():
    with pytest.raises(TypeError, match="lacks"):
        load_attack("collections:OrderedDict")


def test_libraries_that_are_missing_are_listed_and_the_report_goes_to_report_by_default(tmp_path, monkeypatch, capsys):
    import theory.attacks.libraries as libraries

    monkeypatch.setattr(libraries, "available_attacks", lambda: ([], {"torchattacks": "not installed"}))
    monkeypatch.chdir(tmp_path)
    assert main(["--examples", "1", "--attack", "theory.attacks:ProjectPGD"]) == 0
    report = json.loads((tmp_path / "report" / "conformance.json").read_text(encoding="utf-8"))
    text = (tmp_path / "report" / "conformance.md").read_text(encoding="utf-8")
    assert report["missing"] == {"torchattacks": "not installed"}
    assert [entry["attack"] for entry in report["attacks"]] == [load_attack("theory.attacks:ProjectPGD").name]
    assert "| torchattacks | — | " + " | ".join("not run" for _ in PROPERTIES) + " |" in text
    assert "\nNot run:\n- torchattacks: not installed\n" in text
    assert "note: torchattacks not run: not installed" in capsys.readouterr().err


def test_the_markdown_starts_with_its_title_and_ends_with_one_newline(tmp_path):
    _, text = run(tmp_path, "theory.attacks:ProjectPGD", examples=1)
    assert text.startswith("# Conformance of L2 PGDs with the paper's algorithm\n\nPer attack and property")
    assert text.endswith("\n") and not text.endswith("\n\n")


def test_the_files_are_written_into_a_folder_that_does_not_exist_yet(tmp_path):
    from theory.attacks.conformance import conformance, write

    paths = write(conformance([], {"foolbox": "not installed"}), tmp_path / "a" / "b")
    assert [p.name for p in paths] == ["conformance.json", "conformance.md"] and all(p.exists() for p in paths)
    assert json.loads(paths[0].read_text(encoding="utf-8"))["missing"] == {"foolbox": "not installed"}


def test_the_help_says_what_each_option_does(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert exit_.value.code == 0
    # Each option's whole help, between its name and the next option (or the end).
    for option, phrase in (("--out OUT", "folder for conformance.md and conformance.json"),
                           ("--examples EXAMPLES", "draws per single-step property"),
                           ("--attack MODULE:CLASS", "check this attack too (repeatable)"),
                           ("--no-libraries", "only the attacks given with --attack")):
        assert re.search(re.escape(f"{option} {phrase}") + r"( -|$)", text), (option, text)


@pytest.mark.parametrize("name", sorted(PROPERTIES))
def test_the_convergence_properties_are_searched_up_to_d_64_and_the_others_over_every_d(name, monkeypatch):
    # The convergence properties run thousands of steps a draw: their search stops at d = 64; the
    # single-step properties draw the whole range of theory.attacks.strategies (up to 28 x 28).
    from hypothesis import strategies as st

    from theory.attacks import conformance

    asked = []

    def recording(name, **kwargs):
        asked.append(kwargs)
        raise LookupError("recorded")

    monkeypatch.setattr(conformance, "cases_for", recording)
    with pytest.raises(LookupError, match="recorded"):
        conformance.run_property(None, name)
    expected = {"d": st.integers(2, 64)} if name in conformance.SLOW_PROPERTIES else {}
    assert {k: repr(v) for k, v in asked[0].items()} == {k: repr(v) for k, v in expected.items()}


class _HonestOnTheReplay:
    """Injected nondeterminism: the coordinate clip's run while ``broken``, the project's PGD after."""

    def __init__(self):
        from theory.attacks.reference import CoordinateClip, ProjectPGD

        self.broken, self._clip, self._pgd = True, CoordinateClip(), ProjectPGD()

    def __getattr__(self, name):
        return getattr(self._clip if self.broken else self._pgd, name)


def test_an_attack_that_deviates_in_the_search_but_not_on_the_replay_is_reported_as_deviating(monkeypatch):
    # The reproducer re-runs the shrunk draw for its message; an attack that passes there (it is
    # not deterministic) still deviated on that draw, and says so.
    from theory.attacks import conformance

    attack, search = _HonestOnTheReplay(), conformance.find

    def then_honest(*args, **kwargs):
        found = search(*args, **kwargs)
        attack.broken = False
        return found

    monkeypatch.setattr(conformance, "find", then_honest)
    verdict = conformance.run_property(attack, "stays_in_ball", examples=20)
    assert verdict["status"] == "deviates" and verdict["reproducer"]["message"] == "deviates on this draw"
