"""Intake: a filled workbook file (or the grid of cells Excel shows) read into a typed `Submission`, every value
keeping its Sheet!Cell; Vietnamese numbers typed as text, formulas and error values in input cells found; the
YAML data files that fill a workbook. Takes files and grids; gives Submissions."""
from toolkit import exports

__getattr__, __all__ = exports(__name__, {
    "reader": ("Reading", "as_text", "read_grid", "read_sheets", "read_submission", "read_workbook", "sniff"),
    "submission": ("Loc", "Row", "Submission", "Value"),
    "datafile": ("load_data",),
})
