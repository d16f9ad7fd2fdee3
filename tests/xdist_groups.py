"""How ``pytest -n N`` (pytest-xdist, ``--dist loadgroup`` in pyproject.toml) shares the tests out.

Each file's tests go to one worker, so its module-scoped apps, live servers and browsers are built
once, and its tests run in their order on them. Every ``postgres`` test goes to one
worker, one at a time: PostgreSQL's advisory locks (audit chains, the statistics cache) are shared
by the whole database, so tests in two schemas would take each other's. A test's own
``xdist_group`` mark wins.

pytest-xdist 3.8 groups by an ``@group`` suffix it writes to ``item._nodeid``; pytest 9 keeps
the node id in ``item._id`` and never reads ``_nodeid``, so that suffix was lost and every test
was scheduled alone. :func:`pytest_collection_modifyitems` writes the suffix where pytest 9
reads it (``tests/test_xdist_groups.py`` fails if the tests of a file are split again).
"""

from __future__ import annotations

import pytest


def group_of(item: pytest.Item) -> str:
    """The test's ``xdist_group``: its own mark, else ``postgres``, else its file."""
    mark = item.get_closest_marker("xdist_group")
    if mark is not None:
        return str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
    return "postgres" if item.get_closest_marker("postgres") else item.nodeid.split("::")[0]


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On a pytest-xdist worker under ``--dist loadgroup``: ``<node id>@<group>`` for each test,
    which is what xdist's scheduler splits the groups by."""
    if not (hasattr(config, "workerinput") and config.getvalue("loadgroup")):
        return
    for item in items:
        item._id = type(item._id).parse(f"{item.nodeid}@{group_of(item)}")  # type: ignore[attr-defined]
