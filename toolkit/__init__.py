"""baocao: commune reform reports from a standard Excel intake workbook to city synthesis and Word."""

__version__ = "0.1.0"
