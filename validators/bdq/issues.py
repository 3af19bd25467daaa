"""The TDWG BDQ tests bridged through the check registry (family ``bdq``): their failures as issue rows.

:func:`bdq_issues` runs every registered validation and issue offline (:func:`mobilise.validators.bdq.batch.run_bdq`)
and reports a row per record and test answering NOT_COMPLIANT (flag BDQ_NOT_COMPLIANT) or POTENTIAL_ISSUE (flag
BDQ_POTENTIAL_ISSUE); term is the test's first acted-upon term (its local name) and value the test's label.
Amendments and measures propose or measure, they do not fail: they stay in the BDQ report.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mobilise.mappers.mapping import ISSUE_SCHEMA
from mobilise.validators.bdq.batch import run_bdq
from mobilise.validators.bdq.core import NOT_COMPLIANT, POTENTIAL_ISSUE, REGISTRY
from mobilise.validators.registry import CheckContext, bridge

_FLAG_OF_RESULT = {NOT_COMPLIANT: "BDQ_NOT_COMPLIANT", POTENTIAL_ISSUE: "BDQ_POTENTIAL_ISSUE"}


@bridge("bdq")
def bdq_issues(table: pa.Table, context: CheckContext) -> pa.Table:
    tests = [test.guid for test in REGISTRY.values() if test.kind in ("Validation", "Issue")]
    results = run_bdq(table, tests, offline=True)
    result = results["result"].cast(pa.string())
    failing = results.filter(pc.fill_null(pc.is_in(result, pa.array(list(_FLAG_OF_RESULT))), False))
    if failing.num_rows == 0:
        return ISSUE_SCHEMA.empty_table()
    guids = failing["guid"].cast(pa.string()).to_pylist()
    terms = [REGISTRY[guid].acted_upon[0].split(":", 1)[-1] for guid in guids]
    flags = [_FLAG_OF_RESULT[r] for r in failing["result"].cast(pa.string()).to_pylist()]
    return pa.table({"row": pa.array(np.asarray(failing["row"]), pa.int64()), "term": pa.array(terms, pa.string()),
                     "flag": pa.array(flags, pa.string()), "value": failing["label"].cast(pa.string())},
                    schema=ISSUE_SCHEMA)
