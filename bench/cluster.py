"""Issue 15 items 4 and 5: `mobilise run` on a Dask cluster started as a user would, and memory over all processes.

    .venv/bin/python bench/cluster.py [--size 1000000] [--workers 2] [--no-local]      # make bench-cluster

Generates the lean flat export of bench/lean.py at SIZE records (``bench/work/lean-SIZE.sqlite`` and its config
``lean-SIZE-bdq.yaml``: BDQ on, as shipped), then:

1. **cluster**: starts ``dask scheduler`` and WORKERS × ``dask worker tcp://127.0.0.1:PORT --nworkers 1
   --nthreads 1`` as subprocesses (the commands a user types, with the environment README's Scale section
   gives them: the config's ``MOBILISE_OUTPUT`` and ``ARROW_DEFAULT_MEMORY_POOL=system``; no Prefect setting), and runs ``mobilise run CONFIG --json --dask-address tcp://127.0.0.1:PORT`` against them;
2. **local**: the same config with ``mobilise run CONFIG --json --runner dask`` (its own local cluster of one
   worker process per core).

Each is timed (wall of the ``mobilise run`` process) and, every 0.5 s, the PSS (psutil
``memory_full_info().pss``: a page shared by several processes counted once, in proportion) of every descendant
of this script is summed: the ``mobilise`` process, its temporary Prefect API, the scheduler, the workers and
their nannies. The peak of that sum is reported, with each role's share at that moment and each role's own peak.
Per worker, the scheduler's task stream (``Client.get_task_stream``, installed before the run) gives the tasks it
ran and their compute seconds. The two archives' core data files (occurrence.txt) must hold the same lines
(compared in order, and sorted); the script fails otherwise.

Prints one JSON line per run (also appended to bench/work/cluster.jsonl) and a Markdown table. The 1-minute load
average is recorded before and after each run: the machine is shared.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import zipfile
from collections import Counter, defaultdict
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
from lean import lean_config, lean_database  # noqa: E402
from run import PYTHON, WORK, machine  # noqa: E402

BIN = Path(PYTHON).parent
LOG = WORK / "cluster.jsonl"
ROLES = ("mobilise", "prefect api", "dask scheduler", "dask workers")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def role_of(process) -> str:
    """Which part of the run a process is, from its command line."""
    command = " ".join(process.cmdline())
    if "uvicorn" in command or "prefect.server" in command:
        return "prefect api"
    if "dask scheduler" in command or "dask-scheduler" in command:
        return "dask scheduler"
    if "dask worker" in command or "dask-worker" in command or "multiprocessing" in command:
        return "dask workers"  # the nanny and the worker process it spawns (forkserver/spawn)
    return "mobilise"


class PSSSampler:
    """Every `interval` s, the summed PSS (MB) of all descendants of this process, by role; keeps the peak."""

    def __init__(self, interval: float = 0.5) -> None:
        self.interval = interval
        self.peak = 0.0
        self.at_peak: dict[str, float] = {}
        self.role_peaks: dict[str, float] = defaultdict(float)
        self.samples = 0
        self.latest: dict[str, float] = {}
        self.timeline: list[tuple[float, float]] = []  # (seconds since start, summed PSS MB)
        self.cpu: dict[int, float] = {}  # CPU seconds (user + system) last seen per process
        self.loads: list[float] = []  # 1-minute load average at each sample (the machine is shared)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PSSSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        import psutil

        me = psutil.Process()
        roles: dict[int, str] = {}
        while not self._stop.wait(self.interval):
            shares: dict[str, float] = defaultdict(float)
            for process in me.children(recursive=True):
                try:
                    role = roles.get(process.pid) or roles.setdefault(process.pid, role_of(process))
                    shares[role] += process.memory_full_info().pss / 2**20
                    times = process.cpu_times()
                    self.cpu[process.pid] = times.user + times.system
                except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                    continue
            self.samples += 1
            total = sum(shares.values())
            self.latest = dict(shares)
            self.loads.append(os.getloadavg()[0])
            self.timeline.append((round(self.samples * self.interval, 1), round(total)))
            for role, value in shares.items():
                self.role_peaks[role] = max(self.role_peaks[role], value)
            if total > self.peak:
                self.peak, self.at_peak = total, dict(shares)


def start(command: list[str], log: Path, env: dict | None = None) -> subprocess.Popen:
    with log.open("w") as handle:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True, env=env,
                                cwd=log.parent)


def stop(process: subprocess.Popen, timeout: float = 20) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def user_environment() -> dict:
    """The environment of a user's shell: no Prefect API and no mobilise variables set by this script."""
    return {key: value for key, value in os.environ.items()
            if not key.startswith(("PREFECT_", "MOBILISE_", "DASK_"))}


def mobilise_run(config: Path, output: Path, extra: list[str], log: Path) -> tuple[dict, float]:
    """`mobilise run CONFIG --json EXTRA`; returns its JSON result and wall seconds."""
    shutil.rmtree(output, ignore_errors=True)
    started = time.perf_counter()
    with log.open("w") as err:
        done = subprocess.run([str(BIN / "mobilise"), "run", str(config), "--json", *extra], stdout=subprocess.PIPE,
                              stderr=err, text=True, env={**user_environment(), "MOBILISE_OUTPUT": str(output)})
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"mobilise run {' '.join(extra)} failed ({done.returncode}); log: {log}\n"
                         + log.read_text()[-3000:])
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return {key: result.get(key) for key in ("archive", "extracted", "records", "rejected", "excluded")}, wall


def task_name(key) -> str:
    """A Prefect task's name from its Dask key (``name-<uuid hex>``)."""
    text = key if isinstance(key, str) else str(key[0] if isinstance(key, tuple) else key)
    return re.sub(r"-[0-9a-f]{32}$|-[0-9a-f-]{36}$", "", text)


def per_worker(stream: list[dict]) -> dict[str, dict]:
    """Tasks, compute seconds and tasks by name per worker, from the scheduler's task stream records."""
    workers: dict[str, dict] = defaultdict(lambda: {"tasks": 0, "compute_s": 0.0, "by_name": Counter()})
    for record in stream:
        entry = workers[record["worker"]]
        entry["tasks"] += 1
        entry["by_name"][task_name(record["key"])] += 1
        entry["compute_s"] += sum(s["stop"] - s["start"] for s in record.get("startstops", ())
                                  if s.get("action") == "compute")
    return {worker: {**entry, "by_name": dict(entry["by_name"])} for worker, entry in sorted(workers.items())}


def run_on_cluster(config: Path, output: Path, workers: int, logs: Path) -> dict:
    """The tasks load the config by its path, so the workers get its ${ENV} variables (here the output folder),
    as a user exports them in the workers' shell."""
    from distributed import Client

    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = user_environment()
    # as README's Scale section says a user starts them: the config's ${ENV}, and the system allocator for Arrow
    worker_env = {"ARROW_DEFAULT_MEMORY_POOL": "system", **env, "MOBILISE_OUTPUT": str(output)}
    load_before = os.getloadavg()[0]
    with PSSSampler() as sampler:
        started = time.perf_counter()
        scheduler = start([str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                           "--no-dashboard"], logs / "scheduler.log", env)
        crew = []
        try:
            for number in range(workers):
                crew.append(start([str(BIN / "dask"), "worker", address, "--nworkers", "1", "--nthreads", "1",
                                   "--no-dashboard", "--name", f"worker-{number + 1}"],
                                  logs / f"worker-{number + 1}.log", worker_env))
            with Client(address, timeout=60) as client:
                client.wait_for_workers(workers, timeout=120)
                cluster_up = time.perf_counter() - started
                client.get_task_stream()  # installs the scheduler's task stream plugin before the run
                idle = dict(sampler.latest)  # the cluster waiting, before the run starts
                since = time.time()
                result, wall = mobilise_run(config, output, ["--dask-address", address], logs / "mobilise-cluster.log")
                stream = client.get_task_stream(start=since)
                names = {worker: info.get("name", worker) for worker, info in client.scheduler_info()["workers"].items()}
        finally:
            for process in crew:
                stop(process)
            stop(scheduler)
    tasks = {names.get(worker, worker): entry for worker, entry in per_worker(stream).items()}
    return {"result": result, "wall": wall, "cluster_up": cluster_up, "workers": tasks, "idle_pss_mb": idle,
            **memory(sampler), "load": [load_before, os.getloadavg()[0]]}


def memory(sampler: PSSSampler) -> dict:
    loads = sampler.loads or [0.0]
    return {"peak_pss_mb": sampler.peak, "timeline": sampler.timeline,
            "load_during": [round(sum(loads) / len(loads), 2), round(max(loads), 2)],
            "cpu_s": round(sum(sampler.cpu.values()), 1), "pss_at_peak_mb": sampler.at_peak, "role_peak_pss_mb": dict(sampler.role_peaks),
            "pss_samples": sampler.samples}


def run_local(config: Path, output: Path, logs: Path) -> dict:
    load_before = os.getloadavg()[0]
    with PSSSampler() as sampler:
        result, wall = mobilise_run(config, output, ["--runner", "dask"], logs / "mobilise-local.log")
    return {"result": result, "wall": wall, **memory(sampler), "load": [load_before, os.getloadavg()[0]]}


def core_lines(archive: str) -> list[bytes]:
    with zipfile.ZipFile(archive) as handle:
        return handle.read("occurrence.txt").splitlines()


def same_records(first: str, second: str) -> dict:
    """Whether two archives' occurrence.txt hold the same lines: in the same order, and as sorted multisets."""
    a, b = core_lines(first), core_lines(second)
    digest = hashlib.sha256(b"\n".join(a)).hexdigest()
    return {"lines": len(a) - 1, "in_order": a == b, "sorted": a[:1] == b[:1] and sorted(a[1:]) == sorted(b[1:]),
            "sha256": digest}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-local", action="store_true", help="leave out the local run (and the comparison)")
    parser.add_argument("--local-first", action="store_true", help="run the local cluster first")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    size = args.size
    db = lean_database(size)
    rows = sqlite3.connect(db).execute("SELECT COUNT(*) FROM flat").fetchone()[0]
    config = lean_config(size, db, bdq=True)
    logs = WORK / f"cluster-{size}"
    logs.mkdir(exist_ok=True)
    print(f"{rows:,} rows in {db.name}; cluster of {args.workers} workers ...", flush=True)
    def cluster() -> dict:
        return {"kind": f"cluster: dask scheduler + {args.workers} dask worker",
                **run_on_cluster(config, WORK / f"cluster-out-{size}", args.workers, logs)}

    def local() -> dict:
        print("local cluster ...", flush=True)
        return {"kind": "local: --runner dask", **run_local(config, WORK / f"local-out-{size}", logs)}

    if args.no_local:
        entries = [cluster()]
    elif args.local_first:
        second = local()
        entries = [cluster(), second]
    else:
        entries = [cluster(), local()]
    now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    compared = None
    if not args.no_local:
        compared = same_records(entries[0]["result"]["archive"], entries[1]["result"]["archive"])
    with LOG.open("a", encoding="utf-8") as handle:
        for entry in entries:
            entry.update(size=size, rows=rows, at=now, compared=compared)
            handle.write(json.dumps(entry) + "\n")
    print(f"\n{rows:,} rows (lean flat export of {size:,} specimens), {now}\n")
    print(report(entries))
    if compared:
        print(f"\noccurrence.txt, cluster vs local: {compared['lines']:,} records; identical in order: "
              f"{compared['in_order']}; identical sorted: {compared['sorted']}")
        if not compared["sorted"]:
            raise SystemExit("the cluster's archive holds other records than the local run's")
    print("\n```\n" + machine() + "\n```")


def report(entries: list[dict]) -> str:
    lines = ["| run | wall s | CPU s, all processes | records published | records/s | peak PSS, all processes MB | at the peak: "
             + ", ".join(ROLES) + " MB | load (1 min) before/after; mean/max during |",
             "| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |"]
    for e in entries:
        published = e["result"]["records"]
        shares = " / ".join(f"{e['pss_at_peak_mb'].get(role, 0):.0f}" for role in ROLES)
        lines.append(f"| {e['kind']} | {e['wall']:.1f} | {e.get('cpu_s', float('nan')):.0f} | {published:,} | {e['rows'] / e['wall']:,.0f} | "
                     f"{e['peak_pss_mb']:,.0f} | {shares} | {e['load'][0]:.1f} / {e['load'][1]:.1f}; "
                     f"{'{:.1f} / {:.1f}'.format(*e['load_during']) if 'load_during' in e else '-'} |")
    cluster = entries[0]
    lines += ["", f"Per worker (cluster started in {cluster['cluster_up']:.1f} s; the scheduler's task stream):", "",
              "| worker | tasks | compute s | records (its share of compute s × records) | records/s of wall | "
              "tasks by name |",
              "| --- | ---: | ---: | ---: | ---: | --- |"]
    compute = sum(w["compute_s"] for w in cluster["workers"].values()) or 1e-9
    for worker, w in cluster["workers"].items():
        records = w["compute_s"] / compute * cluster["rows"]
        names = ", ".join(f"{name} {count}" for name, count in sorted(w["by_name"].items()))
        lines.append(f"| {worker} | {w['tasks']} | {w['compute_s']:.1f} | {records:,.0f} | "
                     f"{records / cluster['wall']:,.0f} | {names} |")
    lines.append(f"| all workers | | {compute:.1f} | {cluster['rows']:,} ({cluster['rows'] / compute:,.0f} per compute s) "
                 f"| {cluster['rows'] / cluster['wall']:,.0f} | |")
    idle = cluster.get("idle_pss_mb") or {}
    lines += ["", "PSS MB, each role's own peak (cluster run; local run); idle cluster before the run:", ""]
    for role in ROLES:
        lines.append(f"- {role}: {cluster['role_peak_pss_mb'].get(role, 0):,.0f}; "
                     + (f"{entries[1]['role_peak_pss_mb'].get(role, 0):,.0f}" if len(entries) > 1 else "-")
                     + f"; idle {idle.get(role, 0):,.0f}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
