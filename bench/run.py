"""The benchmark behind ``make bench``: the pipeline against its floor and against other tools, same rows.

    .venv/bin/python bench/run.py [--sizes 1000000 5000000] [--repeats 3 2] [--engines adbc sqlalchemy]
        [--no-others] [--servers]
    .venv/bin/python bench/run.py --report        # rewrite bench/results.md from bench/work/measurements.jsonl

Every measured thing runs in a child process; its wall time and CPU time (user + system) come from ``os.wait4``
(the child's own rusage, including the descendants it waited for), its peak RSS both as the largest single process
(rusage) and as the peak of the summed PSS of the child and all its descendants (sampled every 0.2 s with psutil:
Dask workers, nannies and the Prefect API server count; PSS counts a page shared by several processes once). Measured, per database size and round:

- ``floor``: the same query exported by the ``sqlite3`` command-line tool as TSV, then ``zip`` (the least any
  tool must do to produce the same rows zipped);
- ``pipeline``: the flow's steps (flows/steps.py) on a local Dask cluster of one worker process per core
  (bench/pipeline.py), timed per phase, without Prefect;
- ``mobilise run``: ``mobilise run CONFIG --json``, the product as a data manager runs it (Prefect flow with its
  temporary API server, local Dask cluster), start-up included; and ``mobilise run, Prefect server``: the same
  against a ``prefect server start`` that the benchmark keeps running (as for scheduled runs);
- ``write mobilise`` / ``write dwcahandler``: writing the same rows (our archive's core file, loaded first) as a
  DwC-A, by our writer and by the ALA's dwcahandler (bench/writers.py);
- ``read dwca-reader``: python-dwca-reader iterating our archive's core rows (bench/read.py);
- with ``--servers``: each extraction engine streaming the query from SQLite, PostgreSQL and MariaDB
  (bench/extract.py; load them first with bench/load_servers.py).

Needs the ``sqlite3`` and ``zip`` commands (``apt-get install -y sqlite3 zip``) and ``pip install -e '.[bench]'``.
The databases and archives live in bench/work/ (git-ignored).
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
WORK = BENCH / "work"
MEASUREMENTS = WORK / "measurements.jsonl"
RESULTS = BENCH / "results.md"
PYTHON = sys.executable
SEED = 42
SERVERS = {"postgresql": "postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3Dbench",
           "mariadb": "mysql+pymysql://root:@127.0.0.1:3306/bench?charset=utf8mb4"}


def run_child(command: list[str] | str, env: dict | None = None) -> dict:
    """Run `command` as a child reaped by os.wait4 (its own rusage): wall, CPU, peak RSS and its JSON line."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               shell=isinstance(command, str), start_new_session=True,
                               env={**os.environ, **env} if env else None)
    out_chunks: list[bytes] = []
    err_chunks: list[bytes] = []

    def drain(stream, sink):
        for chunk in iter(lambda: stream.read(65536), b""):
            sink.append(chunk)

    tree_peak = [0.0]
    finished = threading.Event()

    def sample_tree() -> None:
        """Peak of the summed PSS of the child and all its descendants (Dask workers, the Prefect server): the
        memory they take together, each shared page counted once (summed RSS would count shared libraries in every
        process)."""
        import psutil

        try:
            root = psutil.Process(process.pid)
        except psutil.NoSuchProcess:
            return
        while not finished.wait(0.2):
            total = 0
            try:
                for member in [root, *root.children(recursive=True)]:
                    try:
                        total += member.memory_full_info().pss
                    except psutil.NoSuchProcess:
                        pass
            except psutil.NoSuchProcess:
                return
            tree_peak[0] = max(tree_peak[0], total / 2**20)

    threads = [threading.Thread(target=drain, args=(process.stdout, out_chunks)),
               threading.Thread(target=drain, args=(process.stderr, err_chunks))]
    for thread in threads:
        thread.start()
    sampler = threading.Thread(target=sample_tree, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    finished.set()
    sampler.join()
    try:  # what it left running (Prefect's ephemeral API servers) would hold the pipes open
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    process.returncode = os.waitstatus_to_exitcode(status)
    for thread in threads:
        thread.join()
    out, err = b"".join(out_chunks).decode(), b"".join(err_chunks).decode()
    if process.returncode != 0:
        raise RuntimeError(f"{command} failed ({process.returncode}):\n{err[-3000:]}")
    result = {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024,
              "tree_rss_mb": tree_peak[0]}
    lines = out.strip().splitlines()
    if lines and lines[-1].startswith("{"):
        result["output"] = json.loads(lines[-1])
    return result


def record(kind: str, size: int, result: dict, **extra) -> dict:
    entry = {"kind": kind, "size": size, "at": dt.datetime.now().isoformat(timespec="seconds"),
             "load": os.getloadavg()[0], **extra, **result}
    with MEASUREMENTS.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry) + "\n")
    print(f"  {kind:<28} {size:>9,} {result['wall']:8.1f} s wall {result['cpu']:8.1f} s cpu "
          f"{result['rss_mb']:7.0f} MB  (load {entry['load']:.1f})", flush=True)
    return entry


def database(size: int) -> Path:
    path = WORK / f"sample-{size}.sqlite"
    if not path.exists():
        print(f"building {path} ...", flush=True)
        subprocess.run([str(Path(PYTHON).parent / "mobilise"), "sample-db", str(path), "--specimens", str(size),
                        "--seed", str(SEED)], check=True)
    return path


def query_file() -> Path:
    os.environ.setdefault("MOBILISE_SAMPLE_URL", "sqlite:///unused")
    sys.path.insert(0, str(ROOT))
    from mobilise.settings import load_config

    path = WORK / "query.sql"
    path.write_text(load_config(ROOT / "config" / "sample.yaml").source.query.strip().rstrip(";") + ";\n")
    return path


def pipeline_run(size: int, db: Path, output: Path, engine: str) -> bool:
    """One pipeline run on a local Dask cluster, recorded; a crash is recorded (and printed), not fatal."""
    try:
        record("pipeline", size, run_child([PYTHON, str(BENCH / "pipeline.py"), str(db), str(output),
                                            "--engine", engine, "--runner", "dask"]), engine=engine)
        return True
    except RuntimeError as error:
        failed(size, f"pipeline ({engine})", error)
        return False


def prefect_config(size: int, engine: str | None, bdq: bool = False) -> Path:
    """The shipped sample config pointed at the bench database, with the benchmark's settings: `engine` (None:
    the shipped one), the BDQ tests on or off (off by default, as in bench/pipeline.py), written below
    ${MOBILISE_OUTPUT} when set."""
    from ruamel.yaml import YAML

    yaml = YAML()
    config = yaml.load((ROOT / "config" / "sample.yaml").read_text())
    config["source"]["url"] = f"sqlite:///{database(size)}"
    if engine:
        config["source"]["engine"] = engine
    config["output"]["directory"] = "${MOBILISE_OUTPUT:-" + str(WORK / f"prefect-{size}") + "}"
    config.setdefault("validation", {}).setdefault("bdq", {})["enabled"] = bdq
    path = WORK / f"prefect-{size}-{engine or 'shipped'}{'-bdq' if bdq else ''}.yaml"
    with path.open("w") as handle:
        yaml.dump(config, handle)
    return path


def prefect_run(size: int, engine: str, api_url: str | None) -> None:
    """`mobilise run CONFIG --json`: the product as a data manager runs it (Prefect flow, local Dask cluster),
    ad hoc (a temporary Prefect API started by the run) and, with `api_url`, against a Prefect server that is
    already running, as scheduled runs are."""
    path = prefect_config(size, engine)
    for kind, env in [("mobilise run", None)] + ([("mobilise run, Prefect server", {"PREFECT_API_URL": api_url})]
                                                 if api_url else []):
        shutil.rmtree(WORK / f"prefect-{size}", ignore_errors=True)
        try:
            record(kind, size, run_child([str(Path(PYTHON).parent / "mobilise"), "run", str(path), "--json"],
                                         env=env), engine=engine)
        except RuntimeError as error:
            failed(size, f"{kind} ({engine})", error)


@contextlib.contextmanager
def prefect_server():
    """`prefect server start` in the background, with a database of its own, for the whole benchmark."""
    import httpx

    home = WORK / "prefect-home"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    url = "http://127.0.0.1:4299/api"
    server = subprocess.Popen([str(Path(PYTHON).parent / "prefect"), "server", "start", "--host", "127.0.0.1",
                               "--port", "4299"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env={**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                                   "PREFECT_UI_ENABLED": "false"}, start_new_session=True)
    try:
        for _ in range(600):
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        else:
            raise RuntimeError("prefect server start did not answer in 120 s")
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def failed(size: int, what: str, error: Exception) -> None:
    print(f"  {what} FAILED: {str(error)[-500:]}", flush=True)
    with MEASUREMENTS.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps({"kind": "failed", "size": size, "what": what,
                                 "at": dt.datetime.now().isoformat(timespec="seconds"),
                                 "error": str(error)[-500:]}) + "\n")


def bench_size(size: int, repeats: int, engines: list[str], others: bool, api_url: str | None) -> None:
    """`repeats` rounds of: the floor, the pipeline and `mobilise run` per engine, and (with `others`) the
    writers and the reader on the archive the first engine's pipeline published."""
    db = database(size)
    query = query_file()
    for repeat in range(repeats):
        print(f"size {size:,}, run {repeat + 1}/{repeats}", flush=True)
        tsv, zipped = WORK / f"floor-{size}.tsv", WORK / f"floor-{size}.zip"
        zipped.unlink(missing_ok=True)
        record("floor: sqlite3 export", size, run_child(f"sqlite3 -readonly -tabs -header {db} < {query} > {tsv}"))
        record("floor: zip", size, run_child(["zip", "-q", "-j", str(zipped), str(tsv)]))
        tsv.unlink()
        for number, engine in enumerate(engines):
            output = WORK / f"out-{size}"
            shutil.rmtree(output, ignore_errors=True)
            if not pipeline_run(size, db, output, engine):
                continue
            # dwcahandler holds every row in memory (~4 GB per million rows): the writers and the reader run in
            # every round at 1M, in the first round only above
            if number == 0 and others and (repeat == 0 or size <= 1_000_000):
                archive = output / "mobilise-sample" / "dwca-1.0.zip"
                for writer in ("mobilise", "dwcahandler"):
                    record(f"write: {writer}", size, run_child([PYTHON, str(BENCH / "writers.py"), writer,
                                                                 str(archive), str(WORK / f"written-{writer}.zip")]))
                record("read: python-dwca-reader", size, run_child([PYTHON, str(BENCH / "read.py"), str(archive)]))
            prefect_run(size, engine, api_url)


def _loaded(url: str, db: Path) -> bool:
    """Whether the server holds the same specimens as the SQLite database (loading 1M takes minutes)."""
    import sqlite3

    import sqlalchemy as sa

    with sqlite3.connect(db) as connection:
        expected = connection.execute("SELECT count(*) FROM collection_object").fetchone()[0]
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        with engine.connect() as connection:
            return connection.execute(sa.text("SELECT count(*) FROM collection_object")).scalar() == expected
    except sa.exc.SQLAlchemyError:
        return False
    finally:
        engine.dispose()


def bench_servers(size: int, repeats: int) -> None:
    db = database(size)
    for server, url in SERVERS.items():
        if not _loaded(url, db):
            print(f"loading {db.name} into {server} ...", flush=True)
            subprocess.run([PYTHON, str(BENCH / "load_servers.py"), str(db), server], check=True)
    urls = {"sqlite": f"sqlite:///{db}", **SERVERS}
    engines = {"sqlite": ["sqlalchemy", "adbc", "connectorx"], "postgresql": ["sqlalchemy", "adbc", "connectorx"],
               "mariadb": ["sqlalchemy", "connectorx"]}
    for repeat in range(repeats):
        for server, url in urls.items():
            for engine in engines[server]:
                try:
                    result = run_child([PYTHON, str(BENCH / "extract.py"), engine, url])
                except RuntimeError as error:
                    print(f"  extract {server} {engine}: {str(error)[-300:]}", flush=True)
                    continue
                record(f"extract: {server} {engine}", size, result, server=server, engine=engine)


# --- report -------------------------------------------------------------------------------------------------------

def _sh(command: str) -> str:
    try:
        return subprocess.run(command, shell=True, capture_output=True, text=True, timeout=30).stdout.strip()
    except Exception as error:  # noqa: BLE001
        return f"({error})"


def machine() -> str:
    cpu = _sh("lscpu | grep -E '^(Model name|CPU\\(s\\)|Thread|Core|Socket|L3)'")
    memory = _sh("free -h | head -2")
    versions = _sh(f"{PYTHON} -c \"import sys, pyarrow, duckdb, sqlalchemy; "
                   f"print('Python', sys.version.split()[0], '| pyarrow', pyarrow.__version__, '| duckdb', "
                   f"duckdb.__version__, '| sqlalchemy', sqlalchemy.__version__)\"")
    tools = _sh("sqlite3 --version | cut -d' ' -f1; zip -v | sed -n 2p")
    return "\n".join([cpu, memory, versions, "sqlite3 " + tools.replace("\n", ", "), platform.platform()])


def _median(entries: list[dict], key: str) -> float:
    return statistics.median(e[key] for e in entries)


def _name(entry: dict) -> str:
    with_engine = entry.get("engine") and entry["kind"].startswith(("pipeline", "mobilise run"))
    return entry["kind"] + (f" ({entry['engine']})" if with_engine else "")


def report() -> None:
    entries = [json.loads(line) for line in MEASUREMENTS.read_text().splitlines() if line.strip()]
    failures = [e for e in entries if e["kind"] == "failed"]
    groups: dict[tuple, list[dict]] = {}
    for entry in entries:
        if entry["kind"] != "failed":
            groups.setdefault((entry["size"], _name(entry)), []).append(entry)
    lines = ["| size | what | runs | wall (median) | CPU user+sys | peak RSS, largest process | "
             "peak PSS, all processes | records/s | notes |",
             "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    summary = []
    for size in sorted({size for size, _ in groups}):
        outputs = [e["output"] for (s_, name), group in groups.items() if s_ == size
                   and name.startswith(("pipeline", "mobilise run")) for e in group if "output" in e]
        rows = outputs[-1]["extracted"] if outputs else None
        export, zipped = groups.get((size, "floor: sqlite3 export")), groups.get((size, "floor: zip"))
        floor = _median(export, "wall") + _median(zipped, "wall") if export and zipped else None
        for (s_, name), group in sorted(groups.items()):
            if s_ != size:
                continue
            wall, cpu = _median(group, "wall"), _median(group, "cpu")
            rss, tree = max(e["rss_mb"] for e in group), max(e.get("tree_rss_mb", 0) for e in group)
            shown, notes = wall, []
            if name.startswith(("write:", "read:")):
                key = "write" if name.startswith("write:") else "iterate"
                shown = statistics.median(e["output"][key] for e in group)
                notes.append(f"{key} step only (process {wall:.1f} s)")
            if name.startswith("pipeline"):
                phases = {k: statistics.median(e["output"]["phases"][k] for e in group)
                          for k in group[0]["output"]["phases"] if k != "total"}
                notes.append("phases end at " + ", ".join(f"{k} {v:.0f}" for k, v in phases.items()))
            if name.startswith("extract:"):
                shown = statistics.median(e["output"]["seconds"] for e in group)
            if floor and name.startswith(("pipeline", "mobilise run")):
                notes.append(f"**{wall / floor:.2f}x floor**")
                summary.append(f"- {size:,} specimens ({rows:,} rows), {name}: {wall:.1f} s = "
                               f"**{wall / floor:.2f}x the floor** ({floor:.1f} s); {rows / wall:,.0f} records/s vs "
                               f"the floor's {rows / floor:,.0f}; peak RSS {rss:,.0f} MB in the largest process, "
                               f"{tree:,.0f} MB (PSS) over all its processes")
            count = group[-1].get("output", {}).get("rows") or rows
            rate = f"{count / shown:,.0f}" if count else ""
            notes.append("load " + ", ".join(f"{e['load']:.1f}" for e in group))
            lines.append(f"| {size:,} | {name} | {len(group)} | {shown:.1f} s | {cpu:.1f} s | {rss:,.0f} MB | "
                         f"{tree:,.0f} MB | {rate} | {'; '.join(notes)} |")
        if floor:
            floor_cpu = _median(export, "cpu") + _median(zipped, "cpu")
            lines.append(f"| {size:,} | **floor total** (export + zip) | | {floor:.1f} s | {floor_cpu:.1f} s | | | "
                         f"{rows / floor:,.0f} | |" if rows else "")
        write, handler = groups.get((size, "write: mobilise")), groups.get((size, "write: dwcahandler"))
        if write and handler:
            ours = statistics.median(e["output"]["write"] for e in write)
            theirs = statistics.median(e["output"]["write"] for e in handler)
            summary.append(f"- {size:,} specimens, write step: mobilise {ours:.1f} s vs dwcahandler {theirs:.1f} s "
                           f"(**{theirs / ours:.1f}x faster**)")
    begin, end = "<!-- measurements:begin -->", "<!-- measurements:end -->"
    block = (f"{begin}\nGenerated by `bench/run.py --report` on {dt.date.today()} from "
             f"{sum(len(g) for g in groups.values())} measurements.\n\n```\n{machine()}\n```\n\n"
             + "\n".join(summary) + "\n\n" + "\n".join(lines)
             + "".join(f"\n\nFAILED run: {f['size']:,} {f.get('what')} at {f['at']}: "
                       f"`{f['error'].strip().splitlines()[-1]}`" for f in failures) + f"\n{end}")
    text = RESULTS.read_text() if RESULTS.exists() else ""
    if begin in text and end in text:
        text = text[:text.index(begin)] + block + text[text.index(end) + len(end):]
    else:
        text = "# Benchmark results\n\n" + block + "\n"
    RESULTS.write_text(text)
    print(f"wrote {RESULTS}")


def main() -> None:
    parser = argparse.ArgumentParser(description="Mobilise benchmark (see bench/run.py's docstring)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 5_000_000])
    parser.add_argument("--repeats", type=int, nargs="+", default=[3, 2], help="per size (last one repeats)")
    parser.add_argument("--engines", nargs="+", default=["adbc"], help="source.engine of the pipeline runs")
    parser.add_argument("--no-others", action="store_true", help="skip dwcahandler and python-dwca-reader")
    parser.add_argument("--servers", action="store_true", help="extraction engines on SQLite/PostgreSQL/MariaDB")
    parser.add_argument("--report", action="store_true", help="only rewrite results.md")
    parser.add_argument("--no-sizes", action="store_true", help="skip the per-size runs (only --servers)")
    args = parser.parse_args()
    if not args.report:
        missing = [tool for tool in ("sqlite3", "zip") if not shutil.which(tool)]
        if missing:
            raise SystemExit(f"bench needs {' and '.join(missing)}: apt-get install -y sqlite3 zip")
        WORK.mkdir(exist_ok=True)
        started = time.perf_counter()
        with prefect_server() as api_url:
            for index, size in enumerate([] if args.no_sizes else args.sizes):
                repeats = args.repeats[min(index, len(args.repeats) - 1)]
                bench_size(size, repeats, args.engines, others=not args.no_others, api_url=api_url)
        if args.servers:
            bench_servers(args.sizes[0], args.repeats[0])
        print(f"benchmark took {time.perf_counter() - started:.0f} s", flush=True)
    report()


if __name__ == "__main__":
    main()
