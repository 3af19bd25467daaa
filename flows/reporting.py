"""What a run tells people: per-batch report fragments, their merge, the publication gates and the report dict.

Pure functions over small structures; the report's layout is ``mobilise.publishers.report``'s contract.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from typing import Iterable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mobilise.flags import FLAGS
from mobilise.settings import DatasetConfig, GatesConfig

EXAMPLES_PER_FLAG = 5
COORDINATES_PER_BATCH = 1000
COORDINATES_IN_REPORT = 5000


def batch_fragment(published: pa.Table, issues: pa.Table, occurrence_ids: pa.Array) -> dict:
    """Counts and samples from one validated batch that the run report needs."""
    fragment: dict = {"years": {}, "coordinates": [], "examples": {}, "terms": {}}
    if "eventDate" in published.column_names and published.num_rows:
        years = pc.utf8_slice_codeunits(pc.drop_null(published["eventDate"]), 0, 4)
        fragment["years"] = {y["values"]: y["counts"] for y in pc.value_counts(years).to_pylist()}
    if {"decimalLatitude", "decimalLongitude"} <= set(published.column_names):
        located = published.select(["decimalLatitude", "decimalLongitude"]).drop_null()
        step = max(1, located.num_rows // COORDINATES_PER_BATCH)
        sample = located.take(pa.array(np.arange(0, located.num_rows, step)))
        fragment["coordinates"] = [[float(a), float(b)] for a, b in
                                   zip(sample["decimalLatitude"].to_pylist(), sample["decimalLongitude"].to_pylist())]
    if issues.num_rows:
        frame = issues.to_pandas()
        frame["occurrenceID"] = occurrence_ids.take(pa.array(frame["row"].to_numpy())).to_pylist()
        for flag, group in frame.groupby("flag", sort=False):
            fragment["examples"][flag] = [
                {"occurrenceID": r.occurrenceID, "term": r.term, "value": None if r.value != r.value else r.value,
                 "message": r.message} for r in group.head(EXAMPLES_PER_FLAG).itertuples()]
        for (term, severity), count in frame.groupby(["term", "severity"]).size().items():
            fragment["terms"].setdefault(term, {})[severity] = int(count)
    return fragment


def merge_fragments(fragments: Iterable[dict]) -> dict:
    years: Counter = Counter()
    coordinates: list = []
    examples: dict[str, list] = defaultdict(list)
    terms: dict[str, Counter] = defaultdict(Counter)
    for fragment in fragments:
        years.update(fragment["years"])
        coordinates.extend(fragment["coordinates"])
        for flag, rows in fragment["examples"].items():
            examples[flag].extend(rows[:EXAMPLES_PER_FLAG - len(examples[flag])])
        for term, counts in fragment["terms"].items():
            terms[term].update(counts)
    step = max(1, len(coordinates) // COORDINATES_IN_REPORT)
    return {"years": dict(sorted(years.items())), "coordinates": coordinates[::step][:COORDINATES_IN_REPORT],
            "examples": dict(examples), "terms": {t: dict(c) for t, c in sorted(terms.items())}}


def merge_counts(dictionaries: Iterable[dict]) -> dict:
    total: Counter = Counter()
    for dictionary in dictionaries:
        total.update(dictionary)
    return dict(total)


def evaluate_gates(gates: GatesConfig, extracted: int, rejected: int, published: int,
                   previous: int | None) -> list[dict]:
    """Each configured gate with whether it passed and why, in words a data manager reads in the report."""
    results = []
    if gates.max_rejected_share is not None:
        share = rejected / extracted if extracted else 0.0
        results.append({"name": "max_rejected_share", "passed": share <= gates.max_rejected_share,
                        "detail": f"{share:.1%} of {extracted} records rejected "
                                  f"(limit {gates.max_rejected_share:.0%})"})
    if gates.max_drop_share is not None and previous:
        drop = (previous - published) / previous
        results.append({"name": "max_drop_share", "passed": drop <= gates.max_drop_share,
                        "detail": f"{published} records against {previous} in the last version "
                                  f"({-drop:+.1%}; limit -{gates.max_drop_share:.0%})"})
    if extracted == 0:
        results.append({"name": "records_extracted", "passed": False, "detail": "the source returned no records"})
    return results


def flag_rows(flags: dict[str, int], severity_of: dict[str, str]) -> list[dict]:
    order = {"error": 0, "warning": 1, "info": 2}
    rows = [{"flag": flag, "severity": severity_of.get(flag, FLAGS[flag].severity if flag in FLAGS else "warning"),
             "records": count, "description": FLAGS[flag].description if flag in FLAGS else "",
             "gbif": FLAGS[flag].gbif if flag in FLAGS else False} for flag, count in flags.items()]
    return sorted(rows, key=lambda r: (order.get(r["severity"], 3), -r["records"], r["flag"]))


def build_report(config: DatasetConfig, *, version: str | None, generated: str, totals: dict, gates: list[dict],
                 flags: dict[str, int], severity_of: dict[str, str], fragment: dict, mids: dict, dissco: dict,
                 bdq: list[dict], amendments: dict) -> dict:
    return {
        "dataset": config.shortname, "title": config.metadata.title, "version": version, "generated": generated,
        "source": config.source.safe_url, "totals": totals, "gates": gates,
        "flags": flag_rows(flags, severity_of), "terms": fragment["terms"], "examples": fragment["examples"],
        "years": fragment["years"], "coordinates": fragment["coordinates"], "mids": mids, "dissco": dissco,
        "bdq": bdq, "amendments": amendments,
    }
