"""`riskclass register export`: the register as a batch output — one row per product, its inventory columns, the
batch result columns of its latest assessment, and the reviewer's decided tier — for a spreadsheet or a regulator.

Written the way batch writes (riskclass.tables): UTF-8 CSV with CRLF, `--excel` adds a byte-order mark, formula cells
guarded, to a hidden temporary file renamed over OUTPUT only when complete.
"""

from __future__ import annotations

from collections.abc import Iterator

from riskclass.register.records import load_json
from riskclass.tables.files import AtomicOutput, check_output_path
from riskclass.tables.write import RESULT_COLUMNS, _CsvWriter

# The product's own columns lead, as an input's columns lead a batch output; then the result columns; then the decision.
LEAD_COLUMNS = ("id", "name", "description")
EXTRA_COLUMNS = ("decided_tier", "assessed_at", "description_version")


def _unique(names: list[str], taken: set[str]) -> list[str]:
    """Inventory column names, renamed `input_NAME` where they would repeat a column riskclass writes (as batch does
    for an input column called `tier`)."""
    out = []
    for n in names:
        name = n
        while name.casefold() in taken:
            name = "input_" + name
        taken.add(name.casefold())
        out.append(name)
    return out


def export_rows(register, lang: str = "zh") -> tuple[list[str], Iterator[list[str]]]:
    """The header and the rows of the export (every product, by id)."""
    inventory: list[str] = []
    seen: set[str] = set()
    for (columns,) in register._read("SELECT columns FROM products ORDER BY id"):
        cols = load_json(columns, {})
        for k in cols if isinstance(cols, dict) else {}:
            if k not in seen:
                seen.add(k)
                inventory.append(k)
    taken = {c.casefold() for c in (*LEAD_COLUMNS, *RESULT_COLUMNS, *EXTRA_COLUMNS)}
    header = [*LEAD_COLUMNS, *_unique(inventory, taken), *RESULT_COLUMNS, *EXTRA_COLUMNS]
    decided = register._decided_tiers()

    def rows() -> Iterator[list[str]]:
        sql = (
            "SELECT p.id AS pid, p.name AS pname, p.columns AS pcolumns, coalesce(d.text, '') AS dtext, a.* "
            "FROM products p LEFT JOIN descriptions d ON d.product_id = p.id AND d.version = "
            "(SELECT max(version) FROM descriptions WHERE product_id = p.id) "
            "LEFT JOIN assessments a ON a.id = (SELECT max(id) FROM assessments WHERE product_id = p.id) "
            "ORDER BY p.id"
        )
        for r in register._read(sql):
            cols = load_json(r["pcolumns"], {})
            cols = cols if isinstance(cols, dict) else {}
            questions = load_json(r["questions"] or "[]", [])
            asked = " | ".join(
                str(q.get(lang) or q.get("zh") or "") for q in (questions if isinstance(questions, list) else [])
            )
            assessed = r["assessed_at"] is not None
            result = {
                "tier": r["tier"] or "",
                "confidence": "" if r["confidence"] is None else repr(round(float(r["confidence"]), 4)),
                "criteria": r["criteria"] or "",
                "red_flags": r["red_flags"] or "",
                "needs_review": "true" if (not assessed or r["needs_review"]) else "false",
                "obligations": r["obligations"] or "",
                "error": r["error"] or ("" if assessed else "not assessed"),
                "possible_criteria": r["possible_criteria"] or "",
                "article50": r["article50"] or "",
                "decided_by": r["decided_by"] or "",
                "questions": asked,
            }
            yield [
                r["pid"],
                r["pname"],
                r["dtext"],
                *(str(cols.get(k, "")) for k in inventory),
                *(result.get(c, "") for c in RESULT_COLUMNS),
                decided.get(r["pid"], ""),
                r["assessed_at"] or "",
                str(r["description_version"] or ""),
            ]

    return header, rows()


def export_csv(
    register, output: str, lang: str = "zh", excel: bool = False, force: bool = False, formula_guard: bool = True
) -> int:
    """Write the export to `output` ("-": standard output); returns the number of products written."""
    if output != "-":
        check_output_path(output, force)
    header, rows = export_rows(register, lang)
    written = 0
    out = AtomicOutput(output)
    with out as stream:
        writer = _CsvWriter(stream, header, excel, formula_guard)
        for row in rows:
            writer.writerow(row)
            written += 1
        writer.close()
        out.flush()
        out.commit()
    return written
