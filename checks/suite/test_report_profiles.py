"""The Hypothesis profiles do not depend on whether Hypothesis detects a CI environment."""

import json
import os
import subprocess
import sys
import textwrap

import pytest


from .report_support import ROOT

# --- the profiles do not depend on whether Hypothesis detects a CI environment ---------------

#: Every Hypothesis CI-detection variable, removed for the "no CI" case.
CI_VARIABLES = ("CI", "__TOX_ENVIRONMENT_VARIABLE_ORIGINAL_CI", "TF_BUILD", "bamboo.buildKey", "BUILDKITE",
                "CIRCLECI", "CIRRUS_CI", "CODEBUILD_BUILD_ID", "GITHUB_ACTIONS", "GITLAB_CI",
                "HEROKU_TEST_RUN_ID", "TEAMCITY_VERSION")

PROFILE_PROBE = textwrap.dedent('''
    import json, sys
    sys.path.insert(0, sys.argv[1])
    from hypothesis import settings
    from hypothesis.database import DirectoryBasedExampleDatabase
    if sys.argv[2] == "conftest":
        from theory.testing.profiles import load_profile  # what checks/conftest.py runs
        load_profile(sys.argv[1] + "/checks")
        names = ("dev", "report", "ci", "thorough", "mutation")
    else:  # the control: a profile registered the naive way, without a parent
        settings.register_profile("naive", max_examples=5, database=DirectoryBasedExampleDatabase("db"))
        names = ("naive",)
    print(json.dumps({n: [settings.get_profile(n).derandomize, settings.get_profile(n).database is not None]
                      for n in names}))
''')


def profile_settings(ci_env, which="conftest"):
    """``{profile: [derandomize, has database]}`` as a fresh interpreter sees them under ``ci_env``."""
    env = {k: v for k, v in os.environ.items() if k not in CI_VARIABLES and k != "HYPOTHESIS_PROFILE"}
    result = subprocess.run([sys.executable, "-c", PROFILE_PROBE, str(ROOT), which], env=dict(env, **ci_env),
                            capture_output=True, text=True, timeout=60, check=True)
    return json.loads(result.stdout)


RANDOMIZED_WITH_DATABASE = [False, True]


@pytest.mark.parametrize("ci_env", [{}, {"CI": "true"}, {"GITHUB_ACTIONS": "true"}], ids=["local", "CI", "GHA"])
def test_profiles_do_not_depend_on_the_ci_environment(ci_env):
    assert profile_settings(ci_env) == {"dev": RANDOMIZED_WITH_DATABASE, "report": RANDOMIZED_WITH_DATABASE,
                                        "ci": [True, False], "thorough": RANDOMIZED_WITH_DATABASE,
                                        "mutation": [True, False]}


@pytest.mark.negative_control
def test_control_a_profile_without_a_parent_is_derandomized_on_ci():
    # The bug the check above guards against: the same registration is randomized
    # locally and silently derandomized once Hypothesis detects CI.
    assert profile_settings({}, "naive") == {"naive": RANDOMIZED_WITH_DATABASE}
    assert profile_settings({"CI": "true"}, "naive") != {"naive": RANDOMIZED_WITH_DATABASE}


# --- which profile, and the database it is given ------------------------------------------------


@pytest.mark.parametrize("environ, profile", [
    ({}, "dev"), ({"CI": "true"}, "ci"), ({"HYPOTHESIS_PROFILE": "thorough"}, "thorough"),
    ({"HYPOTHESIS_PROFILE": "report", "CI": "true"}, "report"), ({"GITHUB_ACTIONS": "true"}, "dev"),
])
def test_the_profile_is_the_variable_else_ci_on_ci_else_dev(environ, profile):
    from theory.testing.profiles import selected_profile

    assert selected_profile(environ) == profile


@pytest.fixture
def restored_profiles():
    from hypothesis import settings

    from theory.testing.profiles import load_profile

    loaded = settings.get_current_profile_name()
    yield load_profile
    load_profile(ROOT / "checks", {**os.environ, "HYPOTHESIS_PROFILE": loaded})


def test_the_randomized_profiles_use_the_database_the_given_environment_names(tmp_path, restored_profiles):
    from hypothesis import settings

    from theory.report import example_database_path

    name = restored_profiles(ROOT / "checks", {"THEORY_EXAMPLE_DB": str(tmp_path / "db"), "HYPOTHESIS_PROFILE": "ci"})
    assert name == "ci" and settings.get_current_profile_name() == "ci"
    for profile in ("dev", "report", "thorough"):
        assert example_database_path(environ={"THEORY_EXAMPLE_DB": str(tmp_path / "db")}) == tmp_path / "db"
        assert settings.get_profile(profile).database.path == tmp_path / "db"
    for profile in ("ci", "mutation"):
        assert settings.get_profile(profile).database is None and settings.get_profile(profile).derandomize
