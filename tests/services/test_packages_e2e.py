"""End to end: twelve county databases cut from the demo, the city's targets package imported on each,
every county's package imported into an empty city database; the city's `jzair progress --json` then
equals the counties' own figures unit by unit, its city rows are their sum, and every record, figure,
milestone and submission arrived field by field. Importing all twelve again changes nothing."""

from __future__ import annotations

import json

import pytest

from jzair_desktop.cli import main as cli_main
from jzair_desktop.demo.common import demo_weights
from jzair_desktop.domain.ledgers import LEDGER_KEYS
from jzair_desktop.domain.reference import CITY_CODE, reference
from jzair_desktop.services import audit_verify, ledgers, submission, targets
from jzair_desktop.services.actor import BUILTIN_ADMIN
from jzair_desktop.services.packages import export as export
from jzair_desktop.services.packages import importer as imp
from jzair_desktop.storage.models import (
    LEDGER_MODELS,
    AirQualityMonth,
    AirQualityTarget,
    CountyTarget,
    Milestone,
    MonthlyFigure,
    MonthSubmission,
)
from tests.services.package_helpers import TODAY, county_db, file_sha256, fresh_db, typed_rows

AS_OF = "2021-03-31"
MONTH = "2021-03"


def progress_json(capsys, path) -> list[dict]:
    capsys.readouterr()
    assert cli_main(["--db", str(path), "progress", "--json", "--as-of", AS_OF]) == 0
    return json.loads(capsys.readouterr().out)


def unit_data(db, code: str) -> dict[str, list[dict]]:
    data = {key: typed_rows(db, LEDGER_MODELS[key], LEDGER_MODELS[key].unit_code == code) for key in LEDGER_KEYS}
    data["figures"] = typed_rows(db, MonthlyFigure, MonthlyFigure.unit_code == code)
    data["air"] = typed_rows(db, AirQualityMonth, AirQualityMonth.area == code)
    data["milestones"] = typed_rows(db, Milestone, Milestone.unit_code == code)
    data["submissions"] = typed_rows(db, MonthSubmission, MonthSubmission.unit_code == code)
    return data


@pytest.mark.slow
def test_twelve_counties_to_the_city(demo_template, tmp_path, capsys):
    units = [u.code for u in reference().units]
    city = fresh_db(tmp_path / "市" / "市级.sqlite3")
    targets.split_city_targets(city, demo_weights(), BUILTIN_ADMIN)
    targets_pkg = export.export_targets_package(city, tmp_path / "市级任务包.jzpkg", actor=BUILTIN_ADMIN).path

    counties = {}
    packages = []
    for n, code in enumerate(units):
        county = county_db(demo_template, tmp_path / "县", code, keep_targets=False)
        assert imp.import_package(county, targets_pkg, actor=BUILTIN_ADMIN).imported
        # Some life on a few county machines before they send.
        if n == 0:
            submission.submit_month(county, code, "2020-12", BUILTIN_ADMIN, today=TODAY)
        if n == 1:
            first = typed_rows(county, LEDGER_MODELS["heating"])[0]["uuid"]
            ledgers.delete_record(county, "heating", first, actor=BUILTIN_ADMIN)
        packages.append(export.export_county_package(county, code, MONTH, tmp_path / f"{code}.jzpkg",
                                                     actor=BUILTIN_ADMIN).path)
        counties[code] = county

    for path in packages:
        assert imp.import_package(city, path, actor=BUILTIN_ADMIN).imported
    assert {h.scope for h in imp.import_history(city)} == set(units)
    assert len({h.fingerprint for h in imp.import_history(city)}) == 12  # twelve installations, twelve keys

    # Both sides compute the same progress: each county's rows of itself equal the city's rows of that
    # county (ranks aside: a county machine ranks itself among empty units), and the city rows are the sum.
    city_rows = progress_json(capsys, city.path)
    by_unit = {(r["indicator"], r["unit_code"]): r for r in city_rows}
    own: dict[tuple[str, str], dict] = {}
    for code, county in counties.items():
        county.dispose()
        for row in progress_json(capsys, county.path):
            if row["unit_code"] == code:
                own[(row["indicator"], code)] = row
                theirs = by_unit[(row["indicator"], code)]
                assert {k: v for k, v in row.items() if k != "rank"} == {
                    k: v for k, v in theirs.items() if k != "rank"}, (code, row["indicator"])
    assert len(own) == len(units) * len(reference().indicators)
    counted = 0
    for ind in reference().indicators:
        total = by_unit[(ind.key, CITY_CODE)]
        if ind.kind == "cumulative" and not ind.city_level:
            assert total["done"] == sum(own[(ind.key, code)]["done"] for code in units), ind.key
            assert total["month_increment"] == sum(own[(ind.key, code)]["month_increment"] for code in units)
            counted += total["done"] > 0
        elif ind.kind == "limit":
            # issue 17: 全市 of a limit counts the units meeting their own limit (not an average)
            statuses = [own[(ind.key, code)]["status"] for code in units]
            assert total["months_met"] == statuses.count("met"), ind.key
            assert total["months_reported"] == statuses.count("met") + statuses.count("not_met"), ind.key
    assert counted >= 10  # the comparison is about real numbers, not zeros

    # Every field arrived exactly (deleted records as tombstones of records the city never saw).
    for code, county in counties.items():
        mine, there = unit_data(county, code), unit_data(city, code)
        mine["heating"] = [r for r in mine["heating"] if r["deleted_at"] is None]
        assert mine == there, code
    assert len(typed_rows(city, Milestone)) > len(units)  # every unit's 露天矿山摸底 and the named ones arrived
    def split(db) -> list[tuple]:
        return [(r["indicator_key"], r["unit_code"], r["value"]) for r in typed_rows(db, CountyTarget)]

    for county in counties.values():
        assert split(county) == split(city) and len(split(city)) > 100
        assert typed_rows(county, AirQualityTarget) == typed_rows(city, AirQualityTarget)
    report = audit_verify.verify(city)
    assert report.ok, [f.message for f in report.findings[:5]]

    # The same twelve packages again: nothing changes, byte for byte.
    before = file_sha256(city)
    for path in packages:
        assert not imp.import_package(city, path, actor=BUILTIN_ADMIN).imported
    assert file_sha256(city) == before
    city.dispose()
