"""One licence recogniser (mobilise.identifiers) for the dataset's EML licence and DiSSCo's record-level check."""
from __future__ import annotations

import pytest

from mobilise.identifiers import creative_commons_licence, open_licence
from mobilise.metadata import Licence, normalise_licence


@pytest.mark.parametrize("value, spdx", [
    ("http://creativecommons.org/licenses/by/4.0/legalcode", "CC-BY-4.0"),
    ("https://creativecommons.org/licenses/by/4.0/", "CC-BY-4.0"),
    ("https://creativecommons.org/licenses/by-nc/4.0/deed.nl", "CC-BY-NC-4.0"),
    ("http://creativecommons.org/publicdomain/zero/1.0/legalcode", "CC0-1.0"),
    ("CC0-1.0", "CC0-1.0"), ("CC-BY-NC-4.0", "CC-BY-NC-4.0"),
    ("Creative Commons Attribution 4.0 International", "CC-BY-4.0"),
    ("Creative Commons Attribution (CC-BY) 4.0 License", "CC-BY-4.0"),
    ("Public Domain (CC0 1.0)", "CC0-1.0"),
    ("https://creativecommons.org/licenses/by/3.0/", None), ("CC BY-SA 4.0", None), ("MIT", None),
    ("CC BY", None),  # a shorthand names no version: not recognised in data, only in a config
])
def test_licences_are_recognised_exactly(value, spdx):
    assert creative_commons_licence(value) == spdx


def test_a_config_shorthand_is_read_only_where_a_person_typed_it():
    assert creative_commons_licence("CC BY", shorthand=True) == "CC-BY-4.0"
    assert normalise_licence("cc-by-nc") is Licence.CC_BY_NC
    assert creative_commons_licence("CC BY 3.0", shorthand=True) is None


@pytest.mark.parametrize("value, accepted", [
    ("http://creativecommons.org/licenses/by/4.0/legalcode", "CC-BY-4.0"), ("CC0", "CC0-1.0"),
    ("https://creativecommons.org/licenses/by-nc/4.0/legalcode", None), ("CC-BY-NC-4.0", None),
])
def test_dissco_accepts_cc0_and_cc_by_of_the_same_recogniser(value, accepted):
    assert open_licence(value) == accepted
    # every licence DiSSCo accepts is one the EML can carry
    if accepted:
        assert normalise_licence(value).value == accepted
