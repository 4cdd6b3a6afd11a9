"""Names vulture (dead-code check in .ci/run) cannot see being used. Each group says who uses them.

Run: `vulture` (its settings are in pyproject.toml).
"""

# ruff: noqa: B018, F821
# Names used only by this file: they are attribute or name references, never executed.

# Qt calls these overrides (QWizardPage, pyqtgraph's GraphicsObject) and slots' signal arguments.
_.initializePage
_.validatePage
_.mouseClickEvent
on  # gui/pages/ledger.py: QAbstractButton.toggled(bool) slot argument
_.redo  # QUndoCommand

# html.parser.HTMLParser calls these (gui/widgets/clipboard.py).
_.handle_starttag
_.handle_endtag
_.handle_data

# reportlab calls BaseDocTemplate.afterFlowable and reads these style attributes.
_.afterFlowable
_.hAlign
_.levelStyles
_.dotsMinLevel
_.tableStyle

# openpyxl and zipfile read these when they write the file.
_.alignment
_.border
_.errorStyle
_.errorTitle
_.promptTitle
_.showInputMessage
_.paperSize
_.fitToWidth
_.fitToHeight
_.fitToPage
_.print_title_cols
_.print_title_rows
_.modified
_.tabSelected
_.external_attr

# SQLAlchemy: the declarative base's type map, ORM columns filled from the ledger registry by name
# (setattr/getattr over domain/ledgers.py keys), the engine's isolation level.
type_annotation_map
filter_json
_.filter_json
_.isolation_level
area_m2
subsidy_yuan
keeps_coal_stove
emission_std
eliminated_date
org_name
actual_date
rural_estate
retired_at  # retired_monthly_figures: written by revision 0010, kept for the record

# plan.toml's fields, kept with the plan's other data (domain/reference.py) and its statuses' names.
issued
adopted
STATUSES

# Pages loaded by name from gui/pages/__init__.py's PageSpec ("module:Class").
PlanPage
SettingsPage

# pytest: fixtures requested for their side effect, module marks, stub arguments of a fake printer, what a
# sample workbook was made with (tests/exchange/merged_samples.py) kept beside it for whoever debugs a test.
first_data_row
township_runs
fast_hasher
no_dialogs
open_umask
pytestmark
option

# SQLAlchemy's compiler calls the @compiles functions of storage/portable.py and reads inherit_cache.
inherit_cache
_codepoint_default
_codepoint_postgresql
_like_default
_like_postgresql
_sum_default
_sum_postgresql

# pytest calls these hooks of tests/conftest.py (the two backends of `db` and the summary line).
pytest_configure
pytest_generate_tests
pytest_runtest_makereport
pytest_terminal_summary
