"""The load-test options as plain functions: parsing, pacing arithmetic, the shape's stage table."""

from __future__ import annotations

import pytest

from loadtests import options as opt
from protocols.text import Encoding


def test_a_destination_range_keeps_its_width_and_wraps(tmp_path):
    numbers = opt.destinations("0013800000000-0013800000002")
    assert len(numbers) == 3
    assert [numbers.at(i) for i in range(4)] == ["0013800000000", "0013800000001", "0013800000002", "0013800000000"]
    assert opt.destinations("+8613800000000-8613800000009").at(1) == "+8613800000001"
    listing = tmp_path / "numbers.txt"
    listing.write_text("# partner test handsets\n13900000001\n\n13900000002\n", encoding="utf-8")
    from_file = opt.destinations(f"@{listing}")
    assert [from_file.at(i) for i in range(3)] == ["13900000001", "13900000002", "13900000001"]
    assert opt.destinations("13800138000").at(5) == "13800138000"


@pytest.mark.parametrize("spec", ["13800000009-13800000000", "138-13800000000", "abc", ""])
def test_a_bad_destination_range_is_refused(spec):
    with pytest.raises(ValueError, match="destinations"):
        opt.destinations(spec)


@pytest.mark.parametrize(("host", "port", "protocol", "expected"), [
    (None, 0, "smpp", ("127.0.0.1", 2775)),
    ("10.0.0.5", 0, "cmpp", ("10.0.0.5", 7890)),
    ("smpp://gw.example:2776/", 0, "smpp", ("gw.example", 2776)),
    ("gw.example:2776", 3000, "smpp", ("gw.example", 3000)),
    ("[::1]:7891", 0, "cmpp", ("::1", 7891)),
])
def test_the_endpoint_comes_from_host_and_port(host, port, protocol, expected):
    assert opt.parse_endpoint(host, port, protocol) == expected


def test_users_share_the_target_rate_of_their_account():
    assert opt.per_user_rate(target=45.0, class_users=3, accounts=1) == pytest.approx(15.0)
    # Two accounts, four users: two users per account, each sends half of its account's target.
    assert opt.per_user_rate(target=45.0, class_users=4, accounts=2) == pytest.approx(22.5)
    assert opt.per_user_rate(target=None, class_users=4, accounts=1) is None


def test_workers_or_users_take_accounts_round_robin():
    ids = opt.split_list(" a, b ,,c")
    assert ids == ["a", "b", "c"]
    assert [ids[opt.account_for(ids, i)] for i in range(5)] == ["a", "b", "c", "a", "b"]
    with pytest.raises(ValueError, match="system-id"):
        opt.account_for([], 0)


def test_the_stage_table_steps_and_ramps():
    stages = opt.parse_stages("ramp:10:0-100, steady:20:100,cut:30:30")
    assert [s.name for s in stages] == ["ramp", "steady", "cut"]
    assert stages[0].users(10, 5) == 5 and stages[0].users(10, 10) == 10
    assert stages[2].users(10, 0) == 3 and stages[2].users(5, 0) == 2  # 1.5 rounds up, not to even
    assert opt.stage_at(stages, 0) == (stages[0], 0)
    assert opt.stage_at(stages, 12.5) == (stages[1], 2.5)
    assert opt.stage_at(stages, 60) is None


@pytest.mark.parametrize("spec", ["", "cut", "cut:ten:30", "cut:10:30-", "9cut:10:30"])
def test_a_bad_stage_table_is_refused(spec):
    with pytest.raises(ValueError, match="stage"):
        opt.parse_stages(spec)


def test_auto_encoding_picks_what_each_protocol_can_label():
    assert opt.encoding_for("auto", "hello", "smpp") is Encoding.GSM7
    assert opt.encoding_for("auto", "hello", "cmpp") is Encoding.ASCII
    assert opt.encoding_for("auto", "你好", "cmpp") is Encoding.UCS2
    assert opt.encoding_for("gbk", "你好", "cmpp") is Encoding.GBK
    with pytest.raises(ValueError, match="no label in CMPP"):
        opt.encoding_for("gsm7", "hello", "cmpp")
    with pytest.raises(ValueError, match="more than one segment"):
        opt.encoding_for("auto", "你好" * 40, "smpp")


def test_the_contract_is_read_from_the_account_document():
    contract = opt.Contract.from_api({"id": "900001", "service_codes": ["10690001"], "service_ids": [],
                                      "rate": 50, "window": 16, "max_connections": 4})
    assert contract == opt.Contract("900001", 50.0, 16, 4, ("10690001",), ())
    assert opt.Contract.from_api({"id": "x", "rate": None, "window": 8, "max_connections": 1}).rate is None
    assert opt.cmpp_version("2.1").value == 0x21
    with pytest.raises(ValueError, match="cmpp-version"):
        opt.cmpp_version("4.0")
