"""City: every unit workbook of a folder (or the store's versions) consolidated into one `Consolidation`, then
written out by its writers: the history store (SQLite or PostgreSQL), the city workbook, the city report (through
the unit reports' renderer) and pandas frames for analysts. Takes files or a store; gives the city's figures."""
from toolkit import exports

__getattr__, __all__ = exports(__name__, {
    "consolidation": ("Consolidation", "HOLD_RULE", "ST_ERRORS", "ST_LATE", "ST_MISSING", "ST_OK", "consolidate",
                      "consolidate_store", "list_workbooks", "period_deadline", "unit_deadline"),
    "store": ("Store", "save_consolidation"),
    "backend": ("Db", "StoreError", "db_errors", "failed", "keep_connections", "shown", "store_exists",
                "store_failure", "store_location", "time_limit"),
    "anomalies": ("Acceptance", "Anomaly", "history_findings"),
    "content": ("ACCEPTED_HEADS", "CONTENT_HEADS", "SHEET_ACCEPTED", "SHEET_CONTENT", "CityBook", "from_grid",
                "read_city_book", "require_content"),
    "workbook": ("write_city_workbook",),
    "report": ("NO_SIGNER_NOTE", "render_city_report"),
    "dispatch": ("new_deadline", "render_dispatch"),
    "analysis": ("long_frame", "wide_frame"),
    "versions": ("versions",),
})
