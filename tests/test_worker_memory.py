"""What a worker keeps once a task is done: its allocators' free memory goes back to the system
(mobilise.processes.release_memory) and the checks' memos let the last batch go (validators.registry)."""
import gc
import os
import subprocess
import sys
import weakref

import pyarrow as pa

from mobilise.validators.registry import BatchMemo, forget_batches

# In a fresh process, so that its resident size is the allocators' doing: 2,000 buffers of 128 KiB (250 MB) from
# Arrow's memory pool and as many from malloc (NumPy), all freed: the MB of RSS that release_memory() gives back.
CODE = """
import numpy as np, psutil, pyarrow as pa, pyarrow.compute as pc
from mobilise.processes import release_memory

rss = lambda: psutil.Process().memory_info().rss
base = pa.array(np.arange(16384, dtype=np.int64))
buffers = [pc.add(base, i) for i in range(2000)] + [np.arange(16384) + i for i in range(2000)]
del buffers
kept = rss()
release_memory()
print((kept - rss()) >> 20)
"""


def test_release_memory_returns_what_the_allocators_keep():
    # the allocators as a process starts by default (a local cluster's nanny sets these in this process's environ)
    env = {k: v for k, v in os.environ.items() if k not in ("ARROW_DEFAULT_MEMORY_POOL", "MALLOC_TRIM_THRESHOLD_")}
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, check=True,
                         env={**env, "ARROW_DEFAULT_MEMORY_POOL": "mimalloc"}).stdout
    assert int(out) > 300, out  # of the ~500 MB freed but kept; nothing comes back without the call


def test_forget_batches_lets_the_last_batch_go():
    memo = BatchMemo()
    table = pa.table({"a": [1, 2]})
    assert memo.get(table, "rows", lambda: table.num_rows) == 2
    last = weakref.ref(table)
    del table
    gc.collect()
    assert last() is not None  # the memo keeps its batch for the next check of the same batch
    forget_batches()
    gc.collect()
    assert last() is None
    table = pa.table({"a": [1]})
    assert memo.get(table, "rows", lambda: table.num_rows) == 1  # and works again with the next batch


def test_a_local_clusters_workers_take_arrow_buffers_from_malloc_unless_the_environment_says_otherwise(monkeypatch):
    from distributed import Client

    from mobilise.flows.publish import _local_cluster

    def pools(cluster) -> set[str]:
        with Client(cluster) as client:
            return set(client.run(lambda: pa.default_memory_pool().backend_name).values())

    monkeypatch.delenv("ARROW_DEFAULT_MEMORY_POOL", raising=False)  # the nanny sets it in this process too
    with _local_cluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        assert pools(cluster) == {"system"}
    monkeypatch.setenv("ARROW_DEFAULT_MEMORY_POOL", "mimalloc")
    with _local_cluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        assert pools(cluster) == {"mimalloc"}


def test_the_command_line_and_the_local_clusters_workers_collect_garbage_less_often():
    from distributed import Client

    from mobilise.flows.publish import _local_cluster
    from mobilise.processes import GC_GENERATION_0

    shown = subprocess.run([sys.executable, "-c", "import gc, mobilise.cli; print(gc.get_threshold()[0])"],
                           capture_output=True, text=True, check=True).stdout
    assert int(shown) == GC_GENERATION_0 != 700
    with _local_cluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None,
                        preload=["mobilise.processes"]) as cluster, Client(cluster) as client:
        assert set(client.run(lambda: gc.get_threshold()[0]).values()) == {GC_GENERATION_0}
