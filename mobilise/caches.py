"""The caches that grow with the data (dates, coordinates, countries, names, geography answers), in one place:
each is bounded by construction (``functools.lru_cache(maxsize=...)``, or the country index's answer cache, which
is cleared when it reaches ``mobilise.reference.geography.CACHE_SIZE``), and :func:`cache_stats` reports their
size, bound and hit rate; :func:`log_cache_stats` writes them to the run log (issue 15 item 4).

The BDQ tests' value caches are validators/bdq/vector.py's (``cache_stats`` there), included here. A cache whose
module is not imported in this process is left out: asking for the figures never imports anything. Each process
(a Dask worker) has its own caches; the figures are this process's.
"""
from __future__ import annotations

import importlib
import logging
import sys

log = logging.getLogger("mobilise")

# module (as installed) -> the functions of it whose cache is keyed by values read from the records
DATA_CACHES: dict[str, tuple[str, ...]] = {
    "mobilise.mappers.dates": ("interpret_event_date", "interpret_date"),
    "mobilise.mappers.coordinates": ("interpret_coordinate",),
    "mobilise.mappers.countries": ("interpret_country_code",),
    "mobilise.mappers.names": (),
    "mobilise.mappers.interpreters": (),
    "mobilise.mappers.measurements": (),
    "mobilise.validators.gbif.geography": ("_jurisdiction", "interpret_continent"),
    "mobilise.validators.gbif.location": ("_footprint",),
    "mobilise.validators.bdq.space_amend": ("point_continents",),
}


def _functions() -> dict[str, object]:
    """name -> lru_cache'd function, for the data caches of the modules already imported."""
    found = {}
    for module_name, names in DATA_CACHES.items():
        module = sys.modules.get(module_name)
        if module is None:
            continue
        if not names:  # every lru_cache'd function the module defines
            names = tuple(name for name, value in vars(module).items()
                          if hasattr(value, "cache_info") and getattr(value, "__module__", None) == module.__name__)
        for name in names:
            function = getattr(module, name, None)
            if function is not None and hasattr(function, "cache_info"):
                found[f"{module_name.rsplit('.', 1)[-1]}.{name}"] = function
    return found


def _figures(size: int, maxsize: int | None, hits: int, misses: int) -> dict:
    asked = hits + misses
    return {"size": size, "maxsize": maxsize, "hits": hits, "misses": misses,
            "hit_rate": round(hits / asked, 3) if asked else None}


def cache_stats() -> dict[str, dict]:
    """name -> {size, maxsize, hits, misses, hit_rate (None when never asked)} for every data cache of this
    process: the lru_cache'd interpreters and checks, ``geography.country_index`` (its answer cache) and the BDQ
    value caches (``bdq.<name>``)."""
    stats = {name: _figures(info.currsize, info.maxsize, info.hits, info.misses)
             for name, function in _functions().items() for info in [function.cache_info()]}
    geography = sys.modules.get("mobilise.reference.geography")
    if geography is not None and geography.country_index.cache_info().currsize:
        index = geography.country_index()
        if index is not None:
            stats["geography.country_index"] = _figures(len(index._cache), geography.CACHE_SIZE, index.hits,
                                                         index.misses)
    if "mobilise.validators.bdq.vector" in sys.modules:
        vector = importlib.import_module("mobilise.validators.bdq.vector")
        stats.update({f"bdq.{name}": figures for name, figures in vector.cache_stats().items()})
    return stats


def log_cache_stats(level: int = logging.INFO, logger: logging.Logger = log) -> dict[str, dict]:
    """Write one line of the caches asked at least once (``name hit-rate% of asked, size/maxsize``) to `logger`;
    returns :func:`cache_stats`."""
    stats = cache_stats()
    asked = [f"{name} {s['hit_rate']:.0%} of {s['hits'] + s['misses']:,} ({s['size']:,}/{_bound(s['maxsize'])})"
             for name, s in stats.items() if s["hit_rate"] is not None]
    if asked:
        logger.log(level, "value caches (hit rate of lookups, size/bound): %s", "; ".join(asked))
    return stats


def _bound(maxsize: int | None) -> str:
    return "unbounded" if maxsize is None else f"{maxsize:,}"
