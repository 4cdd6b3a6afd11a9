"""File formats: Excel workbooks, PDF reports, data packages. No Qt."""
