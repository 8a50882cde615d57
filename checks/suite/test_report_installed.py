"""The claims report from an installed package: its pytest settings, a wheel in a fresh environment, the default checks folder."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path


from ..support import needs_source_tree
from theory import report as R

from .report_support import ROOT

# --- the report from an installed package -------------------------------------------------------

def pytest_settings_agree(pyproject_text, table):
    """pyproject.toml's [tool.pytest.ini_options] carries every setting of ``table`` (PYTEST_INI), the same."""
    import tomllib

    ini = tomllib.loads(pyproject_text)["tool"]["pytest"]["ini_options"]

    def normal(value):
        if isinstance(value, bool):
            return str(value).lower()
        return [" ".join(str(v).split()) for v in value] if isinstance(value, list) else " ".join(str(value).split())
    return all(key in ini and normal(ini[key]) == normal(value) for key, value in table.items())


@needs_source_tree
def test_pyproject_carries_the_pytest_settings_the_report_passes_to_installed_checks():
    from theory.testing.profiles import PYTEST_INI
    assert pytest_settings_agree((ROOT / "pyproject.toml").read_text(encoding="utf-8"), PYTEST_INI)


@needs_source_tree
def test_control_a_table_without_strict_xfails_disagrees_with_pyproject():
    from theory.testing.profiles import PYTEST_INI
    assert not pytest_settings_agree((ROOT / "pyproject.toml").read_text(encoding="utf-8"),
                                     {**PYTEST_INI, "xfail_strict": "false"})


def _setuptools_can_build():
    try:
        from importlib.metadata import version
        return int(version("setuptools").split(".")[0]) >= 77  # [build-system] requires setuptools>=77
    except Exception:
        return False


def install_into_a_fresh_environment(base):
    """The project built as a wheel and installed (not editable) into a fresh virtual environment under ``base``.

    The wheel is built from a copy of the sources (the build writes build/ and an
    egg-info next to them). The environment borrows this one's dependencies through
    a .pth file (no network), but not its copy of theory: the wheel's comes first on
    sys.path, and an editable install's finder is not loaded from a borrowed folder.
    Returns the environment's folder and its site-packages.

    The subprocesses run without ``PYTHONPATH``: a checkout on it carries the editable
    install's egg-info, and pip would take the project for installed and skip the wheel.
    """
    import sysconfig
    import venv

    clean = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}

    source = base / "source"
    for name in ("theory", "checks"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__", ".hypothesis"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    dist = base / "dist"
    build = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(dist), str(source)]
    if _setuptools_can_build():
        build.insert(4, "--no-build-isolation")
    subprocess.run(build, check=True, capture_output=True, timeout=600, env=clean)
    (wheel,) = dist.glob("*.whl")
    env_dir = base / "env"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps",
                    "--no-index", str(wheel)], check=True, capture_output=True, timeout=600, env=clean)
    assert (env_dir / "bin" / "theory-claims").exists(), "the wheel was not installed"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True, env=clean).stdout.strip()
    borrowed = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (Path(site) / "_borrowed_dependencies.pth").write_text("\n".join(sorted(borrowed)) + "\n")
    return env_dir, Path(site)


@needs_source_tree
def test_the_installed_package_writes_a_report_from_an_empty_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # as the seed sweep runs the suite: the checkout on the path
    env_dir, site = install_into_a_fresh_environment(tmp_path)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "HYPOTHESIS_PROFILE", R.EXAMPLE_DB_ENV)}
    for command in (["bin/theory-claims"], ["bin/python", "-m", "theory"]):
        empty = tmp_path / f"empty-{len(command)}"
        empty.mkdir()
        result = subprocess.run([str(env_dir / command[0]), *command[1:], "--profile", "dev", "--workers", "0",
                                 "--no-figure", "--no-conformance", "--no-real", "-k", "test_lemma_4_2"], cwd=empty, env=env, capture_output=True,
                                text=True, timeout=600)
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
        report = json.loads((empty / "report" / "claims.json").read_text(encoding="utf-8"))
        statuses = {c["key"]: c["status"] for c in report["claims"]}
        assert statuses["lemma_4_2"] == "holds only with an added hypothesis"
        assert {s for k, s in statuses.items() if k != "lemma_4_2"} == {"not run"}
        assert str(site / "theory" / "checks") in result.stdout  # the installed checks ran, not the checkout's
        # The example database is the working directory's, never site-packages'.
        assert Path(report["example_database"]).resolve() == (empty / ".hypothesis" / "examples").resolve()
    assert not (site / ".hypothesis").exists() and not (site / "theory" / ".hypothesis").exists()


@needs_source_tree
def test_the_default_checks_of_a_source_tree_are_its_checks_folder():
    from theory.report.cli import default_checks

    assert default_checks() == ROOT / "checks"
