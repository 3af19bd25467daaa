"""Copy the canonical Darwin Core Data Package schemas into ``dwc-dp/<version>/`` (the run-time schema set).

Run from anywhere (development only; the runtime never reads ``../shared``)::

    .venv/bin/python mobilise/data/build_dwc_dp.py [--standards PATH] [--profile-url URL] [--check]

Input (defaults to ``<repo>/../shared/standards``): ``dwc-dp/`` there, a copy of the public repository gbif/dwc-dp
(CC0 1.0; commit and date in its README.md): ``dwc-dp/dwc-dp-profile.json`` (the JSON Schema profile),
``dwc-dp/index.json`` (the reserved table names and their schemas), ``dwc-dp/version.json``,
``dwc-dp/table-schemas/*.json`` (the canonical Frictionless table schemas) and ``frictionless/*.json`` (the
Frictionless Data Package v1 JSON Schemas the profile refers to, for validating offline).

Output: ``dwc-dp/<version>/`` with those files copied byte for byte (``frictionless/`` beside ``table-schemas/``),
plus ``schema-set.json``: ``{"version", "profileUrl" (written as the package's ``profile``), "issued", "source"
{"repository", "commit", "licence"}, "tables": [names]}``. The version is ``index.json``'s ``version``. A new
schema set (a new version of the standard) is added beside the old one by running this script on the new copy;
``mobilise.dwcdp.schema_set()`` picks the newest unless a version is named.

``--check`` exits non-zero when a shipped file differs from what would be generated.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_STANDARDS = HERE.parents[1].parent / "shared" / "standards"
OUTPUT = HERE / "dwc-dp"
#: the profile URL written in every package (the guide: "MUST include the version of the profile"); the ratified
#: 1.0 profile, whose table schemas this copy of gbif/dwc-dp (index version 0.1, issued after ratification) holds.
DEFAULT_PROFILE_URL = "http://rs.tdwg.org/dwc-dp/1.0/dwc-dp-profile.json"


def _source(readme: str) -> dict[str, str]:
    commit = re.search(r"commit ([0-9a-f]{40})", readme)
    if not commit:
        raise ValueError("dwc-dp/README.md names no commit of gbif/dwc-dp")
    return {"repository": "gbif/dwc-dp", "commit": commit.group(1), "licence": "CC0-1.0"}


def build(standards: Path, profile_url: str = DEFAULT_PROFILE_URL) -> tuple[str, dict[str, bytes]]:
    """(version, {relative path -> bytes}) of the schema set read from ``standards/dwc-dp``."""
    root = standards / "dwc-dp"
    index = json.loads((root / "dwc-dp" / "index.json").read_text(encoding="utf-8"))
    version = index["version"]
    files: dict[str, bytes] = {}
    for name in ("dwc-dp-profile.json", "index.json", "version.json"):
        files[name] = (root / "dwc-dp" / name).read_bytes()
    tables = []
    for entry in index["tableSchemas"]:
        path = root / "dwc-dp" / entry["url"]
        schema = json.loads(path.read_bytes())
        if schema.get("name") != entry["name"]:
            raise ValueError(f"{entry['url']} is named {schema.get('name')!r}, index.json says {entry['name']!r}")
        files[entry["url"]] = path.read_bytes()
        tables.append(entry["name"])
    profile = json.loads(files["dwc-dp-profile.json"])
    reserved = profile["$defs"]["dwc-dp-resource-names"]["enum"]
    if sorted(reserved) != sorted(tables):
        raise ValueError("the profile's reserved table names and index.json's table schemas differ")
    for path in sorted((root / "frictionless").glob("*.json")):
        files[f"frictionless/{path.name}"] = path.read_bytes()
    manifest = {"version": version, "profileUrl": profile_url, "issued": index.get("issued"),
                "source": _source((root / "README.md").read_text(encoding="utf-8")), "tables": tables}
    files["schema-set.json"] = (json.dumps(manifest, indent=1) + "\n").encode("utf-8")
    return version, files


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--standards", type=Path, default=DEFAULT_STANDARDS)
    ap.add_argument("--output", type=Path, default=OUTPUT)
    ap.add_argument("--profile-url", default=DEFAULT_PROFILE_URL)
    ap.add_argument("--check", action="store_true", help="compare instead of writing")
    args = ap.parse_args(argv)
    version, files = build(args.standards, args.profile_url)
    target = args.output / version
    if args.check:
        stale = [name for name, data in files.items()
                 if not (target / name).exists() or (target / name).read_bytes() != data]
        extra = sorted(str(p.relative_to(target)) for p in target.rglob("*.json")
                       if str(p.relative_to(target)) not in files)
        if stale or extra:
            print(f"{target}: out of date: {', '.join(stale + extra)}; rerun build_dwc_dp.py", file=sys.stderr)
            return 1
        return 0
    for name, data in files.items():
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        (target / name).write_bytes(data)
    print(f"wrote DwC-DP schema set {version} ({len(files)} files) to {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
