"""The `mobilise` command line."""
from __future__ import annotations

import json
import os
import signal
import sys
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Optional

import typer

from mobilise import processes
from mobilise.settings import ConfigError, load_config

# Collection servers often have no route to the internet: Prefect's usage telemetry would only log errors.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
# The temporary Prefect API a run starts when no server is configured may need more than Prefect's default 20 s
# on a busy machine (a 1M benchmark run timed out there).
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
# Dask's scheduler, nannies and workers log every start and stop at INFO: keep them to warnings unless asked for
os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "warning")
# Mobilise's own log lines (stage ends with counts, retries) go to the Prefect UI with the flow's (mobilise/runlog.py);
# outside a flow run they are only printed
os.environ.setdefault("PREFECT_LOGGING_EXTRA_LOGGERS", "mobilise")
os.environ.setdefault("PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW", "ignore")
processes.tune_garbage_collector()  # fewer young-generation collections: ~5% of a run's CPU (mobilise/processes.py)

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Publish natural-history collection databases to GBIF and DiSSCo as Darwin Core Archives.")


def _fail(message: str, code: int = 2) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(code)


def _print_result(result: dict, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, sort_keys=True))
        return
    if result.get("full_because"):
        typer.echo(f"{result['dataset']}: {result['full_because']}")
    if result.get("unchanged"):
        typer.echo(f"{result['dataset']} unchanged since version {result['version']}: nothing new published "
                   f"({result['records']} records)")
        typer.echo(f"  current:    {result['current']}")
    elif result.get("version"):
        typer.echo(f"Published {result['dataset']} version {result['version']}: {result['records']} records")
        typer.echo(f"  archive:    {result['archive']}")
        typer.echo(f"  current:    {result['current']}")
        if result.get("dwc_dp"):
            typer.echo(f"  data package: {result['dwc_dp']}")
    else:
        typer.echo(f"Validated {result['dataset']} (nothing published): {result['records']} records publishable")
    typer.echo(f"  rejected:   {result['rejected']} (reasons in {result['quarantine']})")
    if result.get("excluded"):
        typer.echo(f"  excluded:   {result['excluded']} by the dataset's rules (listed in {result['excluded_file']})")
    if result.get("merge"):
        merge, changes = result["merge"], result.get("changes") or {}
        typer.echo(f"  {result.get('mode', 'incremental')} run: {merge['replaced']} staged records read again, "
                   f"{changes.get('added', 0)} added, {changes.get('changed', 0)} changed, "
                   f"{changes.get('removed', 0)} removed ({merge['deleted']} deleted in the source)")
    if result.get("report"):
        typer.echo(f"  report:     {result['report']}")
    if result.get("warnings"):
        typer.echo(f"  warnings:   {result['warnings']} (published records with a warning or info flag)")
    if result.get("amendments"):
        typer.echo(f"  amendments: {result['amendments']}")
    if result["issues"]:
        typer.echo("  issues (records flagged):")
        for flag, count in sorted(result["issues"].items(), key=lambda kv: -kv[1]):
            typer.echo(f"    {count:>8}  {flag} [{result['severity'].get(flag, '?')}]")
    if result.get("untranslated"):
        from mobilise.publishers.report import Untranslated, untranslated_lines

        typer.echo("  values with no translation (records):")
        for line in untranslated_lines([Untranslated(**row) for row in result["untranslated"]]):
            typer.echo(f"    {line}")


DASK_ADDRESS = typer.Option(None, "--dask-address", help="run map/validate on this Dask scheduler (tcp://host:8786)")
RUNNER = typer.Option(None, "--runner", help="auto (the default: threads for small sources, Dask for big ones), "
                      "dask (local cluster) or threads; overrides the config")
PROGRESS = typer.Option(None, "--progress/--no-progress", help=(
    "progress bars on standard error (records read, mapped, validated, written); default: when it is a terminal"))
VERBOSE = typer.Option(False, "--verbose", help=(
    "log everything at DEBUG, Dask's and Prefect's internals too (also MOBILISE_LOG_LEVEL=DEBUG)"))
ACCEPT_ID_CHANGES = typer.Option(False, "--accept-id-changes", help=(
    "publish even when more of the last version's occurrenceIDs are gone than gates.max_removed_ids_share allows "
    "(this run only)"))


#: seconds from SIGTERM or SIGINT to the end of the process, whatever the clean-up is stuck on (systemd, docker
#: stop and timeout allow 10)
STOP_SECONDS = 9


def _watch(show: bool | None):
    """A context manager: the progress bars of the runs inside it (mobilise/progress.py) on standard error, when
    `show` (None: when standard error is a terminal)."""
    from contextlib import nullcontext

    from mobilise import progress

    if show is None:
        show = sys.stderr.isatty()
    if not show:
        return nullcontext()
    bars = progress.RichBars(force_terminal=True)

    @contextmanager
    def shown():
        with bars, progress.watching(bars):
            yield

    return shown()


def _setup_log(verbose: bool) -> None:
    """The run log (mobilise/runlog.py); a MOBILISE_LOG_LEVEL that is no level ends the command (status 2)."""
    from mobilise import runlog

    if verbose:
        os.environ["MOBILISE_LOG_LEVEL"] = "DEBUG"  # for the Dask workers too
    try:
        runlog.configure(verbose)
    except ValueError as error:
        _fail(f"mobilise: {error}")


def _run(config: Path, dry_run: bool, dask_address: str | None, runner: str | None, as_json: bool = False,
         show_progress: bool | None = False, verbose: bool = False, **options) -> dict:
    """The run's result (mobilise.flows.publish.run_publication); a config error, a failed run or a signal ends
    the command with its exit status and one line on standard error. With `as_json` a failed run also prints one
    JSON object on standard output (``error``, and ``version`` when one was published before the failure), so a
    scheduler that parses the output always gets one."""
    def failed(message: str, code: int, version: str | None = None, dataset: str | None = None) -> None:
        if as_json:
            typer.echo(json.dumps({"dataset": dataset, "version": version, "archive": None, "dwc_dp": None,
                                   "records": None, "rejected": None, "error": message.removeprefix("mobilise: "),
                                   "exit_status": code}, ensure_ascii=False, sort_keys=True))
        _fail(message, code=code)

    from mobilise import prefect_api

    prefect_api.launch_early()  # the temporary Prefect API boots while the config is read and the pipeline imported
    try:
        loaded = load_config(config)  # config errors stop here, before any flow runs
    except ConfigError as exc:
        prefect_api.discard_early()
        failed(str(exc), 2)
    if runner not in (None, "auto", "dask", "threads"):
        prefect_api.discard_early()
        failed(f"--runner must be 'auto', 'dask' or 'threads', not {runner!r}", 2)
    from mobilise import runlog
    from mobilise.flows.publish import run_publication
    from mobilise.publishers.publication import DatasetLockedError, PublicationDirectory, PublicationLog
    from mobilise.publishers.publish import PublicationGateError

    _setup_log(verbose)
    runlog.protect(loaded.source)

    if not loaded.execution.lock_wait_seconds:  # say so now, not after the 10-20 s the Prefect API takes to start
        try:
            PublicationDirectory(loaded.publication_directory).acquire(0).release()
        except DatasetLockedError as exc:
            failed(f"mobilise: nothing was published: {exc}", 1, dataset=loaded.shortname)
    log = PublicationLog(loaded.publication_directory)  # the commit point: a version in it was published
    before = log.latest()
    try:
        with processes.stop_on_signals(exit_within=STOP_SECONDS), _watch(show_progress):
            result = run_publication(str(config), dry_run=dry_run, dask_address=dask_address, runner=runner,
                                     **options)
    except BaseException as exc:
        stopped = processes.stop_signal()
        after = log.latest()
        published = after.version if after is not None and after != before else None
        if stopped is not None:
            _interrupted(stopped, published, log.path, loaded.shortname if as_json else None)
        if not isinstance(exc, Exception):
            raise
        # the flow already logged the traceback; say what failed in one line (a run refused by the dataset lock
        # never claims a version another run committed meanwhile)
        if published is not None and not isinstance(exc, DatasetLockedError):
            failed(f"mobilise: version {published} was published ({log.path}), but the run then failed: "
                   f"{type(exc).__name__}: {exc}", 1, version=published, dataset=loaded.shortname)
        if isinstance(exc, PublicationGateError):
            what = "validated; a publication now would be stopped" if dry_run else "nothing was published"
            failed(f"mobilise: {what} by a publication gate: {exc}", 1, dataset=loaded.shortname)
        failed(f"mobilise: the run failed and nothing was published: {type(exc).__name__}: {exc}", 1,
               dataset=loaded.shortname)
    return result


def _interrupted(stopped: signal.Signals, published: str | None, log: Path, json_dataset: str | None = None) -> None:
    """Say in one line that a signal stopped the run (and whether it had published version `published` first),
    and exit with the shell's status for the signal: 130 (SIGINT), 143 (SIGTERM). With `json_dataset` (a --json
    run of that dataset) standard output also gets the one JSON object a --json run always prints.

    The process exits at once (os._exit): a worker thread still inside a database query would otherwise hold it
    until the query ends; the run has already cleaned up (flows/publish.py run_publication).
    """
    for signum in processes.STOP_SIGNALS:  # a second signal now would cut the line short
        signal.signal(signum, signal.SIG_IGN)
    outcome = f"version {published} had been published ({log})" if published else "nothing was published"
    if json_dataset is not None:
        typer.echo(json.dumps({"dataset": json_dataset, "version": published, "archive": None, "dwc_dp": None,
                               "records": None, "rejected": None, "error": f"interrupted ({stopped.name}); {outcome}",
                               "exit_status": 128 + stopped}, ensure_ascii=False, sort_keys=True))
    typer.echo(f"mobilise: interrupted ({stopped.name}); {outcome}", err=True)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(128 + stopped)


@app.command()
def run(config: Path = typer.Argument(..., help="dataset config (YAML)"),
        as_json: bool = typer.Option(False, "--json", help="print one JSON object with the result"),
        dask_address: Optional[str] = DASK_ADDRESS, runner: Optional[str] = RUNNER,
        accept_id_changes: bool = ACCEPT_ID_CHANGES,
        force: bool = typer.Option(False, "--force", help="publish a new version even when nothing changed"),
        incremental: bool = typer.Option(False, "--incremental", help=(
            "read only the records changed since the last publication (source.modified_column) and merge them into "
            "its staged records; a full run when that cannot give what a full run would (it says why)")),
        full: bool = typer.Option(False, "--full", help="a full run (the default; overrides --incremental)"),
        reconcile_deletions: bool = typer.Option(False, "--reconcile-deletions", help=(
            "also scan the source's key column and remove the records gone from it (implies --incremental)")),
        show_progress: Optional[bool] = PROGRESS, verbose: bool = VERBOSE) -> None:
    """Extract, map, validate and publish the dataset as its next archive version (nothing new when nothing
    changed)."""
    mode = "incremental" if (incremental or reconcile_deletions) and not full else "full"
    _print_result(_run(config, dry_run=False, dask_address=dask_address, runner=runner, as_json=as_json,
                       accept_id_changes=accept_id_changes, force=force, mode=mode,
                       reconcile_deletions=reconcile_deletions and not full, show_progress=show_progress,
                       verbose=verbose), as_json)


@app.command()
def validate(config: Path = typer.Argument(..., help="dataset config (YAML)"),
             as_json: bool = typer.Option(False, "--json", help="print one JSON object with the result"),
             config_only: bool = typer.Option(False, "--config-only", help="only check the config file"),
             dask_address: Optional[str] = DASK_ADDRESS, runner: Optional[str] = RUNNER,
             accept_id_changes: bool = ACCEPT_ID_CHANGES, show_progress: Optional[bool] = PROGRESS,
             verbose: bool = VERBOSE) -> None:
    """Everything `run` does except publishing: see what would be rejected and why."""
    if config_only:
        try:
            loaded = load_config(config)
        except ConfigError as exc:
            _fail(str(exc))
        typer.echo(f"{config}: valid ({len(loaded.mapping)} terms mapped, source {loaded.source.safe_url})")
        return
    _print_result(_run(config, dry_run=True, dask_address=dask_address, runner=runner, as_json=as_json,
                       accept_id_changes=accept_id_changes, show_progress=show_progress, verbose=verbose), as_json)


@app.command("sample-db")
def sample_db(path: str = typer.Argument(..., help="SQLite file, .xlsx workbook (lab) or SQLAlchemy URL (darwin on "
                                                   "PostgreSQL, specify on MariaDB) to write"),
              kind: str = typer.Option("sample", "--kind",
                                       help="sample (the CMS-like database), darwin (RBINS DaRWIN-like), specify "
                                            "(Specify-like herbarium) or lab (Excel workbook)"),
              specimens: int | None = typer.Option(None, "--specimens", min=1,
                                                   help="number of specimens (default: sample 10,000, darwin and "
                                                        "specify 2,000, lab 300)"),
              seed: int = typer.Option(42, "--seed", help="random seed (same seed, same database)"),
              if_missing: bool = typer.Option(False, "--if-missing", help="do nothing when PATH (a file) exists")
              ) -> None:
    """Write a generated sample source: the embedded sample collection database (a CMS-like SQLite database with
    realistic defects) or one of the three demo institutions' sources (docs/demo-institutions.md)."""
    from mobilise.samples.writing import is_url

    writers = {"sample": 10_000, "darwin": 2000, "specify": 2000, "lab": 300}
    if kind not in writers:
        _fail(f"mobilise: unknown --kind {kind!r}: one of {', '.join(writers)}")
    url = is_url(path)
    if url and kind in ("sample", "lab"):
        _fail(f"mobilise: --kind {kind} writes a file, not a database URL")
    if if_missing and not url and Path(path).exists():
        typer.echo(f"{path} exists; left as it is")
        return
    specimens = specimens or writers[kind]
    if kind == "sample":
        from mobilise.samples import build_sample_database

        written = build_sample_database(path, specimens=specimens, seed=seed)
    elif kind == "darwin":
        from mobilise.samples.darwin import write_darwin

        written = write_darwin(path, specimens=specimens, seed=seed)
    elif kind == "specify":
        from mobilise.samples.specify import write_specify

        written = write_specify(path, specimens=specimens, seed=seed)
    else:
        from mobilise.samples.lab import write_lab

        written = write_lab(path, specimens=specimens, seed=seed)
    typer.echo(f"wrote {written} ({kind}: {specimens} specimens, seed {seed})")


@app.command("bdq-conformance")
def bdq_conformance(files: list[Path] = typer.Argument(..., help="TDWG BDQ validation data CSV files"),
                    as_json: bool = typer.Option(False, "--json", help="print one JSON object")) -> None:
    """Run the official TDWG BDQ validation data through Mobilise's BDQ tests and count what conforms."""
    import mobilise.validators.bdq  # noqa: F401  (registers the tests)
    from mobilise.validators.bdq.conformance import run_conformance

    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        _fail(f"mobilise: no such file: {', '.join(missing)}")
    result = run_conformance(files)
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))
        return
    typer.echo(f"{'test':<58} {'rows':>5} {'pass':>5} {'fail':>5} {'not run':>7}")
    for test in result["tests"]:
        typer.echo(f"{test['label'][:58]:<58} {test['rows']:>5} {test['passed']:>5} {test['failed']:>5} "
                   f"{test['not_run']:>7}")
    typer.echo(f"{'total':<58} {result['rows']:>5} {result['passed']:>5} {result['failed']:>5} "
               f"{result['not_run']:>7}")


# --- operating many datasets (flows/operations.py) ------------------------------------------------------------------

def _configs(paths: list[Path]) -> list[Path]:
    from mobilise.flows.operations import dataset_configs

    try:
        configs = dataset_configs(paths)
    except FileNotFoundError as error:
        _fail(f"mobilise: {error}")
    if not configs:
        _fail(f"mobilise: no dataset config (*.yaml, *.yml) in {', '.join(map(str, paths))}")
    return configs


def _console():
    from rich.console import Console

    return Console(highlight=False, width=None if sys.stdout.isatty() else 160)


def _count(value) -> str:
    return "" if value is None else f"{value:,}"


@app.command("run-all")
def run_all(config_dir: Path = typer.Argument(..., help="a folder of dataset configs (*.yaml, *.yml)"),
            as_json: bool = typer.Option(False, "--json", help="print one JSON object with every dataset's outcome"),
            dask_address: Optional[str] = DASK_ADDRESS, runner: Optional[str] = RUNNER,
            show_progress: Optional[bool] = PROGRESS, verbose: bool = VERBOSE) -> None:
    """Publish every dataset config in a folder, one after the other (one failure does not stop the others),
    and print a summary; exit status 0 only when every dataset was published or unchanged."""
    configs = _configs([config_dir])
    if runner not in (None, "auto", "dask", "threads"):
        _fail(f"--runner must be 'auto', 'dask' or 'threads', not {runner!r}")
    from mobilise import prefect_api

    prefect_api.launch_early()  # the temporary Prefect API boots while the pipeline is imported
    from mobilise import runlog
    from mobilise.flows.operations import run_all as run_datasets

    _setup_log(verbose)
    for path in configs:
        try:
            runlog.protect(load_config(path).source)
        except ConfigError:
            pass  # run-all names it in its summary
    try:
        with processes.stop_on_signals(exit_within=STOP_SECONDS), _watch(show_progress):
            outcomes = run_datasets(configs, runner=runner, dask_address=dask_address)
    except BaseException:
        stopped = processes.stop_signal()
        if stopped is None:
            raise
        for signum in processes.STOP_SIGNALS:
            signal.signal(signum, signal.SIG_IGN)
        typer.echo(f"mobilise: run-all interrupted ({stopped.name}); the dataset being run was stopped and the ones "
                   f"after it did not run (each one's publications.json says what it published)", err=True)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(128 + stopped)
    failed = [outcome for outcome in outcomes if outcome.result == "failed"]
    if as_json:
        typer.echo(json.dumps({"datasets": [o.as_dict() for o in outcomes], "failed": len(failed)},
                              ensure_ascii=False, sort_keys=True))
    else:
        _console().print(run_all_table(str(config_dir), outcomes))
    raise typer.Exit(1 if failed else 0)


def run_all_table(folder: str, outcomes: list):
    """The run-all summary as a rich Table: dataset, config, result (published version, unchanged, or failed
    with its one-line reason), records, rejected."""
    from rich.table import Table

    failed = [outcome for outcome in outcomes if outcome.result == "failed"]
    table = Table(title=f"mobilise run-all {folder}: {len(outcomes) - len(failed)} of {len(outcomes)} succeeded")
    for column in ("dataset", "config", "result", "records", "rejected"):
        table.add_column(column, justify="right" if column in ("records", "rejected") else "left", overflow="fold")
    for outcome in outcomes:
        if outcome.result == "failed":
            result = f"[red]failed[/red]: {outcome.reason}"
        elif outcome.result == "published":
            result = f"published {outcome.version}"
        elif outcome.result == "unchanged":
            result = f"unchanged ({outcome.version})"
        else:
            result = outcome.result
        table.add_row(outcome.dataset, Path(outcome.config).name, result, _count(outcome.records),
                      _count(outcome.rejected))
    return table


def _ago(text: str | None) -> str:
    from datetime import datetime

    if not text:
        return ""
    try:
        return datetime.fromisoformat(text).strftime("%Y-%m-%d %H:%M:%S %Z").strip()
    except ValueError:
        return text


@app.command()
def status(paths: Optional[list[Path]] = typer.Argument(None, help="dataset configs or folders of them "
                                                                     "(default: config/)"),
           as_json: bool = typer.Option(False, "--json", help="print one JSON object")) -> None:
    """Each dataset's last run (time, state, duration), current version, record counts, rejected share, records
    and extension rows excluded by rule, the version's Darwin Core Data Package, and next scheduled run (from the
    Prefect API when PREFECT_API_URL is set, else from the publication folders)."""
    from mobilise.flows.operations import statuses

    datasets, note = statuses(_configs(paths or [Path("config")]))
    if as_json:
        typer.echo(json.dumps({"datasets": datasets, "prefect": note or "used"}, ensure_ascii=False,
                              sort_keys=True))
        return
    from rich.table import Table

    table = Table(title="mobilise status" + (f" ({note}: last runs from the publication folders)" if note else ""))
    for column in ("dataset", "version", "records", "rejected", "last run", "state", "duration", "next run",
                   "DwC-DP"):
        table.add_column(column, justify="right" if column in ("records", "rejected", "duration") else "left",
                         overflow="fold")
    for dataset in datasets:
        run = dataset["last_run"] or {}
        if dataset["error"]:
            state = f"[red]config error[/red]: {dataset['error']}"
        elif run.get("failed"):
            state = f"[red]{run['state']}[/red]" + (f": {run['failure']}" if run.get("failure") else "")
        else:
            state = run.get("state", "never run")
        share = f" ({dataset['rejected_share']:.1%})" if dataset["rejected_share"] is not None else ""
        if dataset.get("excluded"):
            share += f" + {dataset['excluded']:,} excluded"
        # the extension rows excluded with their core record, per extension (the core's are counted above)
        rows = [f"{name} {counts['excluded']:,}" for name, counts in list((dataset.get("tables") or {}).items())[1:]
                if counts.get("excluded")]
        if rows:
            share += f" (rows excluded: {', '.join(rows)})"
        duration = f"{run['duration_seconds']:.0f} s" if run.get("duration_seconds") is not None else ""
        table.add_row(dataset["dataset"], dataset["version"] or "", _count(dataset["records"]),
                      _count(dataset["rejected"]) + share, _ago(run.get("time")), state, duration,
                      _ago(dataset["next_run"]) or dataset["schedule"],
                      Path(dataset["dwc_dp"]).name if dataset.get("dwc_dp") else "")
    _console().print(table)


DATE_FORMATS = ["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]


@app.command()
def backfill(config: Path = typer.Argument(..., help="dataset config (YAML) with source.modified_column"),
             since: datetime = typer.Option(..., "--since", formats=DATE_FORMATS,
                                            help="the window's start (included): YYYY-MM-DD[THH:MM:SS]"),
             until: datetime = typer.Option(..., "--until", formats=DATE_FORMATS,
                                            help="the window's end (excluded): YYYY-MM-DD[THH:MM:SS]"),
             dry_run: bool = typer.Option(False, "--dry-run", help=(
                 "only validate the window's records (the report and quarantine go to validation/)")),
             as_json: bool = typer.Option(False, "--json", help="print one JSON object with the result"),
             dask_address: Optional[str] = DASK_ADDRESS, runner: Optional[str] = RUNNER,
             accept_id_changes: bool = ACCEPT_ID_CHANGES,
             show_progress: Optional[bool] = PROGRESS, verbose: bool = VERBOSE) -> None:
    """Re-extract the records whose source.modified_column lies in [--since, --until), merge them into the last
    publication's staged records and publish the result (a full run when there are none, saying why)."""
    from mobilise.extractors.base import Window, windowed

    try:
        windowed(load_config(config).source, Window(since, until))
    except ConfigError as exc:
        _fail(str(exc))
    except ValueError as exc:
        _fail(f"mobilise: {exc}")
    result = _run(config, dry_run=dry_run, dask_address=dask_address, runner=runner, as_json=as_json,
                  since=since, until=until, accept_id_changes=accept_id_changes, show_progress=show_progress,
                  verbose=verbose)
    window = Window(since, until).describe(load_config(config).source.modified_column)
    if as_json:
        typer.echo(json.dumps({**result, "window": window, "published": result.get("version") is not None
                               and not dry_run and not result.get("unchanged")},
                              ensure_ascii=False, sort_keys=True))
        return
    if dry_run:
        changes = result.get("changes") or {}
        typer.echo(f"Backfill of {result['dataset']} (dry run), records with {window}: {result['extracted']} "
                   f"extracted, {result['records']} publishable, {result['rejected']} rejected "
                   f"(reasons in {result['quarantine']})")
        if changes.get("previous_version"):
            typer.echo(f"  against version {changes['previous_version']}: {changes['added']} new, "
                       f"{changes['changed']} changed, {changes['unchanged']} unchanged (records outside the "
                       f"window are not compared)")
        typer.echo(f"  report:     {result['report']}")
        return
    typer.echo(f"Backfill of {result['dataset']}, records with {window}:")
    _print_result(result, as_json=False)


# --- serve-archives (publishers/server.py) --------------------------------------------------------------------------

@app.command("serve-archives")
def serve_archives(directory: Path = typer.Argument(..., help="the publication directory (output.directory)"),
                   port: int = typer.Option(8000, "--port", min=0, max=65535, help="TCP port (0: any free one)"),
                   host: str = typer.Option("127.0.0.1", "--host",
                                            help="address to listen on (loopback by default; 0.0.0.0: every "
                                                 "interface, better behind nginx or Apache)")) -> None:
    """Serve the publication directory over HTTP as harvesters expect (Last-Modified, ETag, 304, ranges)."""
    from mobilise.publishers.server import bind, server

    if not directory.is_dir():
        _fail(f"mobilise: no such directory: {directory}")
    try:
        sock = bind(host, port)
    except OSError as exc:
        _fail(f"mobilise: cannot listen on {host}:{port}: {exc}")
    bound_host, bound_port = sock.getsockname()[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    typer.echo(f"serving {directory.resolve()} at http://{shown}:{bound_port}/ (Ctrl+C stops)", err=True)
    server(directory, host=host, port=bound_port).run(sockets=[sock])


# --- serve (flows/deployments.py) ----------------------------------------------------------------------------------

@app.command("serve")
def serve_deployments(folder: Path = typer.Argument(Path("config"), help="folder of dataset configs (*.yaml)")) -> None:
    """Register one Prefect deployment per dataset config in FOLDER (publish_dataset/<shortname>, with the config's
    schedule), delete those of configs no longer there, and run their scheduled and requested runs until Ctrl+C.
    Needs a Prefect server (PREFECT_API_URL)."""
    from mobilise.flows.deployments import ServeError, serve

    try:
        serve(folder)
    except ConfigError as exc:
        _fail(str(exc))
    except ServeError as exc:
        _fail(str(exc))
    except KeyboardInterrupt:  # Ctrl+C or SIGTERM before Prefect's runner started: nothing runs yet
        raise typer.Exit(130)


def main() -> None:  # pragma: no cover - console entry point alias
    app(prog_name="mobilise")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
