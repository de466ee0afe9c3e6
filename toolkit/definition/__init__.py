"""The form definition: the YAML and CSV files beside this module, read into a typed `Form` (indicators, lists,
units, report types), the rules parsed into safe trees and the rulebook built from them, the catalogue of finding
codes and the `Finding`/`Report` values every later stage speaks. Takes files; gives the vocabulary."""
from toolkit import exports

__getattr__, __all__ = exports(__name__, {
    "form": ("Field", "Form", "ListDef", "NATIONAL", "ReportDef", "Unit", "label_key", "load_form", "nfc"),
    "findings": ("ERROR", "Finding", "Report", "SEVERITY_VI", "WARNING"),
    "catalogue": ("catalogue",),
    "layout": ("layout",),
    "rules": ("BinOp", "Compare", "ListSum", "Missing", "Node", "Num", "Outcome", "Ref", "Rule", "evaluate",
              "linear", "load_rules", "refs", "value_of"),
    "rulebook": ("BUTTON_ONLY", "Check", "EXPLAIN_JOIN", "RATIO_SLIP", "ROW_CHECKS", "checks", "explain_note",
                 "flagged", "leaf_label"),
})
