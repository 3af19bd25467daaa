"""The BDQ response model and the registry that maps each test GUID to its implementation.

A BDQ test is a pure function of one record (a mapping of ``dwc:``/``dc:``/``dcterms:`` prefixed term names to
strings, empty string when the term is absent) plus its parameters. It never raises: a failure to interpret
input is a response, not an exception. This mirrors the TDWG BDQ Implementer's Guide, so a test written here can
be checked row by row against the official validation data.
"""
from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping


class Status(str, enum.Enum):
    RUN_HAS_RESULT = "RUN_HAS_RESULT"
    INTERNAL_PREREQUISITES_NOT_MET = "INTERNAL_PREREQUISITES_NOT_MET"
    EXTERNAL_PREREQUISITES_NOT_MET = "EXTERNAL_PREREQUISITES_NOT_MET"
    AMENDED = "AMENDED"
    FILLED_IN = "FILLED_IN"
    NOT_AMENDED = "NOT_AMENDED"


COMPLIANT = "COMPLIANT"
NOT_COMPLIANT = "NOT_COMPLIANT"
POTENTIAL_ISSUE = "POTENTIAL_ISSUE"
NOT_ISSUE = "NOT_ISSUE"
NOT_REPORTED = "NOT_REPORTED"


@dataclass(frozen=True)
class Response:
    """status + result + comment, as the standard defines them.

    ``result`` is a string for validations/issues/measures (COMPLIANT, POTENTIAL_ISSUE, a number as text,
    NOT_REPORTED), a dict of proposed term values for AMENDED/FILLED_IN amendments, and ``None`` when no result
    applies (prerequisites not met, NOT_AMENDED).
    """

    status: Status
    result: str | dict[str, str] | None
    comment: str

    def result_text(self) -> str:
        if isinstance(self.result, dict):
            return json.dumps(self.result, ensure_ascii=False)
        return "" if self.result is None else str(self.result)


Record = Mapping[str, str]
TestFunction = Callable[..., Response]


@dataclass(frozen=True)
class BdqTest:
    guid: str
    label: str
    kind: str  # Validation, Amendment, Issue, Measure
    acted_upon: tuple[str, ...]
    consulted: tuple[str, ...]
    parameters: Mapping[str, str] = field(default_factory=dict)  # bdqval:name -> default value
    function: TestFunction | None = None
    # True when the default authority is a remote service (GBIF backbone, Getty TGN, WoRMS): offline, such a test
    # answers EXTERNAL_PREREQUISITES_NOT_MET and the conformance runner counts rows expecting more as not run.
    needs_network: bool = False

    # The default parameters as the keyword arguments the function receives, computed once at registration.
    default_arguments: Mapping[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "default_arguments",
                           {_param_name(k): v for k, v in self.parameters.items()})

    def __call__(self, record: Record, **parameters: str) -> Response:
        if not parameters:  # the common case: defaults only
            return self.function(record, **self.default_arguments)
        params = {**self.parameters, **{k: v for k, v in parameters.items() if v not in (None, "")}}
        return self.function(record, **{_param_name(k): v for k, v in params.items()})


REGISTRY: dict[str, BdqTest] = {}


def _param_name(bdqval_name: str) -> str:
    """'bdqval:sourceAuthority' -> 'sourceAuthority' (the keyword argument the function receives)."""
    return bdqval_name.split(":", 1)[-1]


def bdq_test(guid: str, label: str, kind: str, acted_upon: tuple[str, ...], consulted: tuple[str, ...] = (),
             parameters: Mapping[str, str] | None = None, needs_network: bool = False
             ) -> Callable[[TestFunction], TestFunction]:
    """Register a test implementation under its GUID (the ``term_localName`` column of TG2_tests.csv)."""

    def register(function: TestFunction) -> TestFunction:
        if guid in REGISTRY:
            raise ValueError(f"BDQ test {guid} ({label}) registered twice")
        REGISTRY[guid] = BdqTest(guid, label, kind, tuple(acted_upon), tuple(consulted), dict(parameters or {}),
                                 function, needs_network)
        return function

    return register


def run_test(guid: str, record: Record, parameters: Mapping[str, Any] | None = None) -> Response:
    return REGISTRY[guid](record, **dict(parameters or {}))


# --- shared helpers -------------------------------------------------------------------------------------------

_EMPTY_CHARACTERS = "".join(chr(code) for code in range(0x21))  # U+0000..U+0020


def is_empty(value: str | None) -> bool:
    """bdqval:Empty: absent, or only characters U+0000..U+0020."""
    return value is None or not value.strip(_EMPTY_CHARACTERS)


def prerequisites_not_met(comment: str) -> Response:
    return Response(Status.INTERNAL_PREREQUISITES_NOT_MET, None, comment)


def external_prerequisites_not_met(comment: str) -> Response:
    return Response(Status.EXTERNAL_PREREQUISITES_NOT_MET, None, comment)


def compliant(comment: str) -> Response:
    return Response(Status.RUN_HAS_RESULT, COMPLIANT, comment)


def not_compliant(comment: str) -> Response:
    return Response(Status.RUN_HAS_RESULT, NOT_COMPLIANT, comment)


def amended(changes: dict[str, str], comment: str) -> Response:
    return Response(Status.AMENDED, dict(changes), comment)


def filled_in(changes: dict[str, str], comment: str) -> Response:
    return Response(Status.FILLED_IN, dict(changes), comment)


def not_amended(comment: str) -> Response:
    return Response(Status.NOT_AMENDED, None, comment)
