"""The report folder is written atomically (``theory.report.files.write_atomically``).

* a new report replaces the previous one whole, in a folder made as needed (parents included),
  with the permissions of an ordinary folder (the umask's), and no partial or old folder left;
* ``build`` raising leaves the previous report as it was and no partial folder;
* if the last rename fails, the previous report is put back;
* ``build``'s result is returned.

Negative control: a writer that builds into the report folder itself is caught leaving a half
report when the build fails.
"""

import os
from pathlib import Path

import pytest

from theory.report.files import write_atomically


def leftovers(parent):
    return sorted(p.name for p in parent.iterdir() if "-partial-" in p.name or "-old-" in p.name)


def report(tmp, text="new"):
    (tmp / "claims.md").write_text(text, encoding="utf-8")
    return text


def test_a_new_report_replaces_the_previous_one_whole_with_ordinary_permissions(tmp_path):
    out = tmp_path / "a" / "b" / "report"
    assert write_atomically(out, lambda tmp: report(tmp, "first")) == "first"
    (out / "stale.txt").write_text("from the first run", encoding="utf-8")
    assert write_atomically(out, report) == "new"
    assert sorted(p.name for p in out.iterdir()) == ["claims.md"] and (out / "claims.md").read_text() == "new"
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o777 & ~umask
    assert leftovers(out.parent) == []


def check_a_failed_build_leaves_the_previous_report(tmp_path, write=write_atomically):
    out = tmp_path / "report"
    write(out, lambda tmp: report(tmp, "previous"))

    def failing(tmp):
        report(tmp, "half")
        raise RuntimeError("the build failed")
    with pytest.raises(RuntimeError, match="the build failed"):
        write(out, failing)
    assert (out / "claims.md").read_text() == "previous" and leftovers(tmp_path) == []


def test_a_failed_build_leaves_the_previous_report(tmp_path):
    check_a_failed_build_leaves_the_previous_report(tmp_path)


@pytest.mark.negative_control
def test_control_a_writer_that_builds_in_place_is_caught(tmp_path):
    def in_place(out, build):
        Path(out).mkdir(parents=True, exist_ok=True)
        return build(Path(out))
    with pytest.raises(AssertionError):
        check_a_failed_build_leaves_the_previous_report(tmp_path, write=in_place)


def test_a_failed_last_rename_puts_the_previous_report_back(tmp_path, monkeypatch):
    out = tmp_path / "report"
    write_atomically(out, lambda tmp: report(tmp, "previous"))
    rename = Path.rename

    def failing_rename(self, target):
        if "-partial-" in self.name:  # the new report's move into place
            raise OSError("the disk is full")
        return rename(self, target)
    monkeypatch.setattr(Path, "rename", failing_rename)
    with pytest.raises(OSError, match="the disk is full"):
        write_atomically(out, report)
    monkeypatch.undo()
    assert (out / "claims.md").read_text() == "previous" and leftovers(tmp_path) == []
