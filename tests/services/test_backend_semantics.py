"""What SQLite and a PostgreSQL server do differently must not show: text order (code point in SQLite, the
collation on a server; the test server's databases sort Chinese by pinyin) and LIKE's case (SQLite ignores
the case of ASCII letters, PostgreSQL does not)."""

from __future__ import annotations

from jzair_desktop.services import ledgers as svc
from jzair_desktop.services.ledgers import RecordQuery
from tests.services.test_ledgers import create, household, truck

TOWNSHIPS = ["张兰镇", "安宁镇", "东阳镇", "Zone B", "zone a"]


def test_text_sorts_by_code_point_on_every_backend(db):
    for n, township in enumerate(TOWNSHIPS, start=1):
        create(db, "heating", household(n, township=township))
    assert svc.townships(db, "heating", None) == sorted(TOWNSHIPS)
    rows = svc.list_records(db, "heating", RecordQuery(sort="township"))
    assert [r.values["township"] for r in rows] == sorted(TOWNSHIPS)
    rows = svc.list_records(db, "heating", RecordQuery(sort="township", descending=True))
    assert [r.values["township"] for r in rows] == sorted(TOWNSHIPS, reverse=True)


def test_search_ignores_the_case_of_ascii_letters_on_every_backend(db):
    create(db, "trucks", truck(7))
    for text in ("晋K00007", "晋k00007", "k0000"):
        assert svc.count_records(db, "trucks", RecordQuery(text=text)) == 1, text
