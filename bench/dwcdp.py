"""CPU seconds of the DwC-DP derivation on a run's own published batches (issue 15).

    python bench/dwcdp.py capture DIR run config/sample.yaml --json --runner threads
        runs `mobilise run ...` with the publish step's write_dataset_package wrapped so that its inputs (core and
        extension batches, EML, arguments) are saved in DIR (pickled Arrow tables) before it runs as usual;
    python bench/dwcdp.py derive DIR [--copy OUT] [--profile]
        derive_package on them: CPU s (user + sys of this process, imports excluded), the summary and the MD5 of
        every file (compare two checkouts' lines; datapackage.json has the run's timestamp, so it compares too).
"""
from __future__ import annotations

import hashlib
import importlib
import json
import pickle
import resource
import shutil
import sys
import tempfile
from datetime import datetime
from pathlib import Path


def capture(directory: Path, arguments: list[str]) -> None:
    import mobilise.publishers.publish as publish
    from mobilise.cli import app

    original = publish.write_dataset_package

    def saving(core_name, core_tables, extension_tables, eml, target, **options):
        directory.mkdir(parents=True, exist_ok=True)
        core = list(core_tables)
        extensions = {name: list(tables) for name, tables in extension_tables.items()}
        (directory / "inputs.pkl").write_bytes(pickle.dumps((core_name, core, extensions, eml, options)))
        return original(core_name, core, extensions, eml, target, **options)

    publish.write_dataset_package = saving
    sys.argv = ["mobilise", *arguments]
    app()


def derive(directory: Path, copy: Path | None, profile: bool) -> None:
    for module in ("duckdb", "pandas"):  # imported by a run before its publish step: not counted here
        importlib.import_module(module)
    from mobilise.publishers.dwcdp import derive_package

    core_name, core, extensions, eml, options = pickle.loads((directory / "inputs.pkl").read_bytes())
    options = {k: v for k, v in options.items() if k in ("schema_version", "package_id", "version", "created")}
    options.setdefault("created", datetime.now())
    out = Path(tempfile.mkdtemp()) / "package"
    profiler = None
    if profile:
        import cProfile
        profiler = cProfile.Profile()
        profiler.enable()
    before = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
    derived = derive_package(core_name, iter(core), {n: iter(t) for n, t in extensions.items()}, out,
                             eml_bytes=eml, **options)
    cpu = sum(resource.getrusage(resource.RUSAGE_SELF)[:2]) - before
    if profiler is not None:
        import pstats
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
    print(f"derive_package: {cpu:.2f} CPU s, {sum(t.num_rows for t in core):,} core rows")
    print(json.dumps(derived.summary.model_dump(mode="json"), sort_keys=True))
    for path in sorted(out.iterdir()):
        print(hashlib.md5(path.read_bytes()).hexdigest(), path.name)
    if copy is not None:
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(out, copy)
    shutil.rmtree(out.parent)


if __name__ == "__main__":
    command, directory, rest = sys.argv[1], Path(sys.argv[2]), sys.argv[3:]
    if command == "capture":
        capture(directory, rest)
    else:
        derive(directory, Path(rest[rest.index("--copy") + 1]) if "--copy" in rest else None, "--profile" in rest)
