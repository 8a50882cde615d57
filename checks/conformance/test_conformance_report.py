"""``python -m theory.conformance``: the report's files, its schema, and an attack brought by the user.

The command runs on the attacks given with ``--attack module:Class`` (here the project's PGD and a
broken one, so that no optional library is needed): ``conformance.json`` validates against
:data:`theory.attacks.conformance.SCHEMA_PATH`, the project's PGD conforms on every property, the
broken attack deviates on the property meant for it with a shrunk reproducer in both files, and a
malformed ``--attack`` is a usage error (exit status 2).
"""

import json

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
