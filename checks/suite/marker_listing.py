"""A pytest plugin for the collection checks: after collecting, print ``negative_control <node id>`` per marked test.

``pytest --collect-only -p checks.suite.marker_listing`` then lists every test and, in the
same run, which of them carry the ``negative_control`` marker, so one collection gives both
sets (a collection of ``checks`` imports every module: about 7 s on a 2-core machine).
"""

MARKED = "negative_control "


def pytest_collection_finish(session):
    for item in session.items:
        if item.get_closest_marker("negative_control") is not None:
            print(MARKED + item.nodeid)
