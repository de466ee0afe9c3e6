"""Server: the city's web server (FastAPI, extra `baocao[server]`). Units' remote buttons post their workbook;
the server runs the same handlers (Kiểm tra, Nộp, Tạo báo cáo) and answers with the edits Excel applies; units'
keys, the Nộp path into the store, and the page of who has submitted."""
from toolkit import exports

__getattr__, __all__ = exports(__name__, {
    "app": ("Settings", "create_app", "serve"),
    "keys": ("issue_to_csv", "read_csv"),
})
