"""Regenerate docs/bdq-conformance.md: Mobilise's BDQ tests measured against the official TDWG validation data.

Run from the repository root with the standards folder beside it:
    .venv/bin/python docs/build_bdq_conformance.py [../shared/standards]
"""
from __future__ import annotations

import csv
import sys
from datetime import date
from pathlib import Path

import mobilise.validators.bdq  # noqa: F401  (registers the tests)
from mobilise.validators.bdq.conformance import run_conformance
from mobilise.validators.bdq.core import REGISTRY

FILES = ("TG2_test_validation_data.csv", "TG2_test_validation_data_nonprintingchars.csv")


def authority(guid: str, tests: dict[str, dict]) -> str:
    test = REGISTRY.get(guid)
    if test is None:
        return "not implemented"
    if test.needs_network:
        return "remote service (offline: EXTERNAL_PREREQUISITES_NOT_MET)"
    if "bdqval:sourceAuthority" in test.parameters or "sourceAuthority" in (tests[guid]["Parameters"] or ""):
        return "bundled vocabulary / geodata"
    return "none (rules of the test)"


def main(standards: Path) -> None:
    bdq = standards / "bdq"
    tests = {row["term_localName"]: row for row in csv.DictReader(open(bdq / "TG2_tests.csv", encoding="utf-8"))}
    result = run_conformance([bdq / name for name in FILES])
    lines = [
        "# TDWG BDQ conformance", "",
        f"Measured {date.today().isoformat()} with `mobilise bdq-conformance "
        + " ".join(f"../shared/standards/bdq/{n}" for n in FILES) + "` (no network).", "",
        "| rows | passed | failed | not run |", "| --- | --- | --- | --- |",
        f"| {result['rows']} | {result['passed']} | {result['failed']} | {result['not_run']} |", "",
        "Comparison as the Implementer's Guide says: by GUID; status exactly; result exactly (amendment JSON as "
        "objects) unless a prerequisite was not met; the comment is not compared. *Not run*: rows whose expected "
        "answer needs a remote authority (GBIF backbone, Getty TGN, WoRMS, IRMNG) or geodata that no package "
        "ships (admin-1 polygons, GBIF country centroids); offline those tests answer "
        "EXTERNAL_PREREQUISITES_NOT_MET. Failed rows are explained in the module docstrings of "
        "`validators/bdq/{time,space,other}.py` (the data and the current specification disagree, or a "
        "datum-shift grid is not available offline).", "",
        "Authorities per test: see also `docs/bdq-authorities-space.md`, `docs/bdq-authorities-name.md` and "
        "`validators/bdq/data/README-*.md`.", "",
        "| test | kind | authority | rows | passed | failed | not run |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for test in result["tests"]:
        kind = tests.get(test["guid"], {}).get("Type", "")
        lines.append(f"| {test['label']} | {kind} | {authority(test['guid'], tests)} | {test['rows']} | "
                     f"{test['passed']} | {test['failed']} | {test['not_run']} |")
    (Path(__file__).parent / "bdq-conformance.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print({k: result[k] for k in ("rows", "passed", "failed", "not_run")})


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "shared" / "standards")
