"""TDWG BDQ core tests (TG2 single-record tests), registered by GUID.

Importing this package registers every implemented test in :data:`REGISTRY`; one module per information element.
"""
from mobilise.validators.bdq.core import REGISTRY, Response, Status, bdq_test, run_test  # noqa: F401
from mobilise.validators.bdq import name, other, space, time  # noqa: F401,E402  (registration side effect)
from mobilise.validators.bdq import issues  # noqa: F401,E402  (bridges the tests into the check registry)
