"""The existing hostile-frame, error and fuzz tests once more, with ``decode``/``encode`` bound to the reference
(Construct) path.

Their own modules run them through the public functions, that is the generated fast path; here the very same
test functions are collected a second time, under a ``test_reference_`` name, while the module-scoped fixture
below rebinds the ``decode`` and ``encode`` those modules call to ``decode_reference`` and ``encode_reference``.
Together the two runs put both paths through every case.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from protocols.cmpp import pdus as cmpp_pdus
from protocols.smpp import _codec as smpp_codec

for folder in ("cmpp", "smpp"):
    if str(Path(__file__).parent / folder) not in sys.path:
        sys.path.insert(0, str(Path(__file__).parent / folder))

CMPP_REFERENCE = (cmpp_pdus.decode_reference, cmpp_pdus.encode_reference)
SMPP_REFERENCE = (smpp_codec.decode_reference, smpp_codec.encode_reference)
REFERENCE = {
    "test_cmpp_codec": CMPP_REFERENCE,
    "test_cmpp_properties": CMPP_REFERENCE,
    "test_smpp_errors": SMPP_REFERENCE,
    "test_smpp_fuzz": SMPP_REFERENCE,
}
MODULES = {name: importlib.import_module(name) for name in REFERENCE}
# Valid round trips and strategy coverage are not about hostile input; test_fast_path compares valid PDUs.
NOT_HOSTILE = {"test_round_trip", "test_strategies_cover_every_field"}


@pytest.fixture(autouse=True, scope="module")
def reference_path() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        for name, (decode, encode) in REFERENCE.items():
            patch.setattr(MODULES[name], "decode", decode)
            patch.setattr(MODULES[name], "encode", encode)
        yield


def test_the_reference_path_is_what_runs_here():
    assert MODULES["test_smpp_fuzz"].decode is smpp_codec.decode_reference
    assert MODULES["test_cmpp_properties"].encode is cmpp_pdus.encode_reference


for _module_name, _module in MODULES.items():
    for _name, _test in list(vars(_module).items()):
        if _name.startswith("test_") and _name not in NOT_HOSTILE and callable(_test):
            globals()[f"test_reference_{_module_name.removeprefix('test_')}__{_name.removeprefix('test_')}"] = _test
