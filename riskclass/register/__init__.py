"""The product register: a team's AI inventory kept in SQLite, with every description, assessment and decision
(issue 13). `Register` is the API the CLI (`riskclass register …`) and the terminal app share."""

from riskclass.register.api import Register
from riskclass.register.records import (
    AssessmentRecord,
    DecisionRecord,
    DescriptionVersion,
    ImportResult,
    Product,
    ProductRow,
    TierChange,
    Versions,
)
from riskclass.register.store import RegisterError, register_path

__all__ = [
    "AssessmentRecord",
    "DecisionRecord",
    "DescriptionVersion",
    "ImportResult",
    "Product",
    "ProductRow",
    "Register",
    "RegisterError",
    "TierChange",
    "Versions",
    "register_path",
]
