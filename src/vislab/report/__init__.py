"""The HTML report that `vislab demo` writes: sections of figures and tables in, a page out."""

from vislab.report.page import Figure, Section, Table, write_report

__all__ = ["Figure", "Section", "Table", "write_report"]
