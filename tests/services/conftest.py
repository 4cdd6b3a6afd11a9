"""Fixtures of the service tests shared by several modules."""

from __future__ import annotations

import pytest

from tests.services.package_helpers import make_demo_template


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory):
    """The whole demo at a small scale in a closed database file (copy it; never open it for writing)."""
    return make_demo_template(tmp_path_factory.mktemp("demo") / "演示.sqlite3")
