"""A county's package (报送包) imported into a city database on PostgreSQL (issue 20): the package's rows go in
through COPY, every field arrives as on SQLite, the county's audit entries are kept apart and the city's chain
verifies; importing the same package again changes nothing."""

from __future__ import annotations

import pytest

from jzair_desktop.domain.ledgers import LEDGER_KEYS
from jzair_desktop.services import audit_verify
from jzair_desktop.services.actor import BUILTIN_ADMIN
from jzair_desktop.services.database import open_database
from jzair_desktop.services.packages import export
from jzair_desktop.services.packages import importer as imp
from jzair_desktop.storage.engine import read_session
from jzair_desktop.storage.models import LEDGER_MODELS, PackageAuditEntry
from tests.services.package_helpers import YUCI, county_db, typed_rows

pytestmark = pytest.mark.slow


@pytest.fixture
def county(demo_template, tmp_path):
    db = county_db(demo_template, tmp_path / "榆次区", YUCI)
    yield db
    db.dispose()


@pytest.fixture
def city(pg_url):
    db, _ = open_database(pg_url)
    yield db
    db.dispose()


def _rows(db, key):  # noqa: ANN001, ANN202
    model = LEDGER_MODELS[key]
    return typed_rows(db, model, model.unit_code == YUCI)


def test_county_package_into_a_server_city_database(county, city, tmp_path):
    package = export.export_county_package(county, YUCI, "2020-12", tmp_path / "榆次区.jzpkg", actor=BUILTIN_ADMIN)
    assert imp.import_package(city, package.path, actor=BUILTIN_ADMIN).imported
    total = 0
    for key in LEDGER_KEYS:
        rows = _rows(city, key)
        assert rows == _rows(county, key), key
        total += len(rows)
    assert total > 100
    with read_session(city.engine) as s:
        kept = s.query(PackageAuditEntry).count()
    assert kept > total
    report = audit_verify.verify(city)
    assert report.ok, [f.message for f in report.findings[:5]]
    again = imp.import_package(city, package.path, actor=BUILTIN_ADMIN)
    assert not again.imported and again.preview.already_imported is not None
    assert len(imp.import_history(city)) == 1
    assert audit_verify.verify(city).ok
