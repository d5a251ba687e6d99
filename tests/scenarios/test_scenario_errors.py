"""Invalid scenario files: each kind of mistake is one line ``FILE:LINE: message`` naming what is allowed, and no
input whatsoever gives anything but a Scenario or a ScenarioError."""

from __future__ import annotations

import re
import tomllib
from datetime import UTC, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scenario_support import write

from simulator.config import ConfigError
from simulator.scenario import FAULTS, KINDS, ScenarioError, load_scenario

# line: 1 schema, 2 name, 3 timezone, 4 blank, 5 [[events]], 6 id, 7 kind, 8 at, 9 duration, 10 reason, 11 notice
BASE = """\
schema = 1
name = "t"
timezone = "Asia/Shanghai"

[[events]]
id = "up"
kind = "maintenance"
at = "+00:15:00"
duration = "00:05:00"
reason = "upgrade"
notice = ["00:10:00"]
"""

FAULT = """
[[events]]
kind = "fault"
fault = "error_burst"
at = "+00:30:00"
duration = "00:02:00"
ratio = 0.3
code = { cmpp = 8, smpp = "ESME_RSYSERR" }
"""  # appended to BASE: line 13 [[events]], 14 kind, 15 fault, 16 at, 17 duration, 18 ratio, 19 code


def error_of(directory: Path, text: str) -> tuple[int | None, str]:
    path = write(directory, text)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    error = caught.value
    assert isinstance(error, ConfigError)  # the CLI prints both alike
    assert str(error).startswith(f"{path}:")
    assert "\n" not in str(error)
    return error.line, error.message


def test_the_base_texts_are_valid(tmp_path):
    assert load_scenario(write(tmp_path, BASE)).ids == ("up",)
    assert load_scenario(write(tmp_path, BASE + FAULT)).ids == ("up", "fault-1")


def test_an_unknown_kind_lists_the_kinds(tmp_path):
    line, message = error_of(tmp_path, BASE.replace('kind = "maintenance"', 'kind = "maintainance"'))
    assert line == 7
    assert message == ('events[0].kind must be one of maintenance, throttle, capacity, fault, bulk_guard, notice, '
                       'got "maintainance"')


def test_a_missing_kind_names_the_kinds(tmp_path):
    line, message = error_of(tmp_path, BASE.replace('kind = "maintenance"\n', ""))
    assert line == 5
    assert message == "events[0] is missing the key 'kind' (one of " + ", ".join(KINDS) + ")"


@pytest.mark.parametrize("offset", ["00:15:00", "+00:75:00", "+15m", "+1d", "PT15M", "+00:15", "+٠٠:١٥:٠٠",
                                    "+400d 00:00:00", "2026-11-30T02:00:00", "2026-13-30T02:00:00+08:00"])
def test_a_bad_offset_says_what_times_look_like(tmp_path, offset):
    line, message = error_of(tmp_path, BASE.replace('at = "+00:15:00"', f'at = "{offset}"'))
    assert line == 8
    assert message.startswith("events[0].at must be an offset from the start \"+HH:MM:SS\" or \"+Nd HH:MM:SS\"")
    assert "RFC 3339 time with an offset" in message


def test_a_local_date_time_without_offset_is_refused(tmp_path):
    line, message = error_of(tmp_path, BASE.replace('at = "+00:15:00"', "at = 2026-11-30T02:00:00"))
    assert line == 8 and "with an offset" in message


def test_a_notice_lead_as_long_as_the_offset_is_refused(tmp_path):
    line, message = error_of(tmp_path, BASE.replace('notice = ["00:10:00"]', 'notice = ["00:10:00", "00:15:00"]'))
    assert line == 11
    assert message == ("events[0].notice[1]: a notice 00:15:00 ahead of an event at +00:15:00 would come before the "
                       "start; each lead must be shorter than the offset")


def test_a_repeated_notice_lead_is_refused(tmp_path):
    line, message = error_of(tmp_path, BASE.replace('notice = ["00:10:00"]', 'notice = ["00:10:00", "00:10:00"]'))
    assert (line, message) == (11, "events[0].notice[1] 00:10:00 repeats an earlier lead time")


def test_a_maintenance_needs_a_duration(tmp_path):
    line, message = error_of(tmp_path, BASE.replace('duration = "00:05:00"\n', ""))
    assert line == 5
    assert message == "events[0] is missing the key 'duration' (a maintenance must say how long it lasts: \"HH:MM:SS\")"


@pytest.mark.parametrize("duration", ['"00:00:00"', '"5 minutes"', '"400d 00:00:00"', "300", '"00:05"'])
def test_a_bad_duration_says_how_to_write_one(tmp_path, duration):
    line, message = error_of(tmp_path, BASE.replace('duration = "00:05:00"', f"duration = {duration}"))
    assert line == 9
    assert message.startswith('events[0].duration must be a duration "HH:MM:SS" or "Nd HH:MM:SS", above 00:00:00 '
                              "and at most 366d 00:00:00")


def test_a_bare_toml_time_is_a_duration(tmp_path):
    scenario = load_scenario(write(tmp_path, BASE.replace('duration = "00:05:00"', "duration = 00:05:00")))
    assert scenario.events[0].duration == 300.0


def test_an_unknown_fault_lists_the_faults(tmp_path):
    line, message = error_of(tmp_path, BASE + FAULT.replace('"error_burst"', '"explode"'))
    assert line == 15
    assert message == "events[1].fault must be one of " + ", ".join(FAULTS) + ', got "explode"'


@pytest.mark.parametrize("ratio", ["1.5", "-0.1", "nan", '"30%"', "true"])
def test_a_ratio_outside_zero_to_one_is_refused(tmp_path, ratio):
    line, message = error_of(tmp_path, BASE + FAULT.replace("ratio = 0.3", f"ratio = {ratio}"))
    assert line == 18
    assert message.startswith("events[1].ratio must be a number 0..1, got ")


def test_an_unknown_smpp_status_suggests_the_closest_name(tmp_path):
    line, message = error_of(tmp_path, BASE + FAULT.replace('"ESME_RSYSERR"', '"ESME_RSYSER"'))
    assert line == 19
    assert message == ("events[1].code.smpp must be a command_status name of protocols.smpp.CommandStatus such as "
                       'ESME_RSYSERR, or an integer 1..4294967295, got "ESME_RSYSER" (did you mean ESME_RSYSERR?)')


def test_an_error_burst_needs_its_codes(tmp_path):
    line, message = error_of(tmp_path, BASE + FAULT.replace('code = { cmpp = 8, smpp = "ESME_RSYSERR" }\n', ""))
    assert (line, message) == (13, "events[1] is missing the key 'code'")
    line, message = error_of(tmp_path, BASE + FAULT.replace("cmpp = 8, ", ""))
    assert (line, message) == (19, "events[1].code is missing the key 'cmpp'")


def test_keys_of_another_kind_are_refused_with_the_allowed_ones(tmp_path):
    line, message = error_of(tmp_path, BASE.replace('reason = "upgrade"', 'reason = "upgrade"\nrate = 5'))
    assert line == 11
    assert message == ("unknown key 'events[0].rate' (allowed: id, kind, at, cron, count, until, accounts, duration, "
                       "reason, mode, notice)")


def test_a_repeated_id_names_the_first_user(tmp_path):
    line, message = error_of(tmp_path, BASE + FAULT.replace('kind = "fault"', 'id = "up"\nkind = "fault"'))
    assert (line, message) == (14, 'events[1].id "up" is already used by events[0]')


def test_a_default_id_taken_by_hand_is_reported(tmp_path):
    text = BASE.replace('id = "up"', 'id = "fault-1"') + FAULT
    line, message = error_of(tmp_path, text)
    assert line == 13
    assert message == 'events[1] has the default id "fault-1", already used by events[0]: give one of them another id'


def test_a_bad_timezone_is_refused(tmp_path):
    line, message = error_of(tmp_path, BASE.replace("Asia/Shanghai", "Mars/Olympus"))
    assert (line, message) == (3, 'timezone must be an IANA time zone name such as Asia/Shanghai, got "Mars/Olympus"')


@pytest.mark.parametrize(("cron", "reason"), [
    ("0 25 * * *", 'hour "25" must be 0..23'),
    ("0 2 * * SUNDAY", 'day of week field "SUNDAY" is not *, a value, a range a-b or a step x/n'),
    ("0 2 * * FOO", 'day of week "FOO" must be 0..7 or SUN..SAT'),
    ("0 2 * 13 *", 'month "13" must be 0..12 or JAN..DEC'.replace("0..12", "1..12")),
    ("0 2 * *", "has 4 fields, not 5"),
    ("*/0 * * * *", 'minute step in "*/0" must be at least 1'),
    ("0 0 5-1 * *", 'day of month range "5-1" runs backwards'),
    ("0 0 31 2 *", "never matches: no month of the expression has such a day"),
])
def test_a_bad_cron_names_the_field(tmp_path, cron, reason):
    text = BASE.replace('at = "+00:15:00"', f'cron = "{cron}"').replace('notice = ["00:10:00"]\n', "")
    line, message = error_of(tmp_path, text)
    assert line == 8
    assert message.startswith(f'events[0].cron "{cron}": {reason} (a cron expression "minute hour day-of-month')


def test_count_and_until_only_bound_a_cron(tmp_path):
    line, message = error_of(tmp_path, BASE.replace('reason = "upgrade"', 'reason = "upgrade"\ncount = 3'))
    assert (line, message) == (11, "events[0].count only bounds a recurring event (with cron)")


def test_at_and_cron_exclude_each_other_and_one_is_needed(tmp_path):
    line, message = error_of(tmp_path, BASE.replace('at = "+00:15:00"', 'at = "+00:15:00"\ncron = "0 2 * * *"'))
    assert (line, message) == (9, "events[0] gives both at and cron: one time or a recurrence")
    line, message = error_of(tmp_path, BASE.replace('at = "+00:15:00"\n', "").replace('notice = ["00:10:00"]\n', ""))
    assert (line, message) == (5, "events[0] needs at (an offset or an RFC 3339 time) or cron")


def test_a_recurring_period_needs_a_duration(tmp_path):
    text = BASE + '\n[[events]]\nkind = "throttle"\ncron = "0 9 * * *"\nrate = 5\n'
    line, message = error_of(tmp_path, text)
    assert (line, message) == (13, "events[1] recurs (cron) and so needs a duration: each occurrence must end before "
                                   "the next")


def test_instant_events_take_no_duration(tmp_path):
    text = BASE + '\n[[events]]\nkind = "fault"\nfault = "disconnect"\nat = "+00:01:00"\nduration = "00:01:00"\n'
    assert error_of(tmp_path, text) == (17, "events[1].duration: a disconnect is instant and takes no duration")
    text = BASE + '\n[[events]]\nkind = "notice"\nat = "+00:01:00"\ntitle = "t"\ntext = "x"\nduration = "00:01:00"\n'
    assert error_of(tmp_path, text) == (18, "events[1].duration: a notice is instant and takes no duration")


@pytest.mark.parametrize(("change", "line", "message"), [
    ("rate = 5\nfactor = 0.5", 17, "events[1] gives both rate and factor: a new rate or a scale, not both"),
    ("", 13, "events[1] changes nothing: give rate (msgs/s), factor (0 < f <= 1) or window"),
    ("factor = 1.5", 16, "events[1].factor must be a number > 0 and <= 1, got 1.5"),
    ("factor = 0", 16, "events[1].factor must be a number > 0 and <= 1, got 0"),
    ("window = 0", 16, "events[1].window must be an integer 1..4096, got 0"),
])
def test_a_throttle_sets_a_rate_or_a_factor(tmp_path, change, line, message):
    text = BASE + f'\n[[events]]\nkind = "throttle"\nat = "+00:01:00"\n{change}\n'
    assert error_of(tmp_path, text) == (line, message)


@pytest.mark.parametrize(("accounts", "message"), [
    ('["*", "900001"]', 'events[0].accounts[0] "*" means all accounts: it stands alone'),
    ("[]", 'events[0].accounts must be a non-empty array: ["*"] for all accounts, or account ids (1..6 letters or '
           "digits), got []"),
    ('["toolongid"]', 'events[0].accounts[0] must be "*" or an account id (1..6 letters or digits), got "toolongid"'),
    ('["900001", "900001"]', 'events[0].accounts[1] "900001" repeats events[0].accounts[0]'),
])
def test_accounts_are_star_or_ids(tmp_path, accounts, message):
    assert error_of(tmp_path, BASE.replace('reason = "upgrade"', f"reason = \"upgrade\"\naccounts = {accounts}")) == (
        11, message)


def test_min_above_max_is_refused(tmp_path):
    text = BASE + '\n[[events]]\nkind = "fault"\nfault = "latency"\nat = "+00:01:00"\nlatency = { min = 2, max = 1 }\n'
    assert error_of(tmp_path, text) == (17, "events[1].latency.max must be at least min (2), got 1")


def test_document_level_mistakes(tmp_path):
    assert error_of(tmp_path, BASE.replace("schema = 1", "schema = 2")) == (
        1, "schema must be 1 (the only version so far), got 2")
    assert error_of(tmp_path, BASE.replace("schema = 1\n", "")) == (None, "the file is missing the key 'schema'")
    assert error_of(tmp_path, BASE.split("[[events]]", maxsplit=1)[0]) == (None, "the file is missing the key 'events'")
    assert error_of(tmp_path, "schema = 1\nname = 't'\nevents = []\n") == (
        3, "events must be a non-empty array of [[events]] tables, got []")
    assert error_of(tmp_path, "schema = 1\nname = 't'\nevents = [1]\n") == (
        3, "events[0] must be a table ([[events]]), got 1")
    assert error_of(tmp_path, BASE + "colour = 'red'\n") == (
        12, "unknown key 'events[0].colour' (allowed: id, kind, at, cron, count, until, accounts, duration, reason, "
            "mode, notice)")
    line, message = error_of(tmp_path, BASE.replace('name = "t"', 'name = "t'))
    assert line == 2 and message.startswith("invalid TOML at column")


def test_unreadable_files(tmp_path):
    with pytest.raises(ScenarioError, match=r"missing\.toml: no such file$"):
        load_scenario(tmp_path / "missing.toml")
    (tmp_path / "bad.toml").write_bytes(b'schema = 1\nname = "\xff"\n')
    with pytest.raises(ScenarioError, match=r"bad\.toml:2: not UTF-8 text$"):
        load_scenario(tmp_path / "bad.toml")


# --- no traceback for any input --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("examples")


def assert_only_scenario_error(path: Path, text_lines: int) -> None:
    try:
        load_scenario(path)
    except ScenarioError as error:
        assert str(error).isprintable()
        assert str(error).startswith(f"{path}:")
        assert error.line is None or 1 <= error.line <= text_lines


@settings(max_examples=100, deadline=None)
@given(data=st.one_of(st.binary(), st.text().map(str.encode)))
def test_any_bytes_give_a_scenario_or_one_error(scratch, data):
    path = scratch / "any.toml"
    path.write_bytes(data)
    assert_only_scenario_error(path, data.count(b"\n") + 1)


def toml_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + re.sub(r"[\x00-\x1f\x7f]", lambda m: f"\\u{ord(m.group()):04x}", escaped) + '"'


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(map(toml_value, value)) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{toml_string(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, int | float):
        return repr(value)
    return value.isoformat()


# Valid-looking values for every key of every kind: most drawn documents get past the type checks to the deeper
# ones (timing, leads, rate/factor, ids), and now and then any value at all probes the type checks.
MODEL = {
    "id": ["a", "up", "fault-1", "", "x" * 70], "kind": list(KINDS), "fault": list(FAULTS),
    "at": ["+00:15:00", "+00:00:00", "+1d 00:00:00", "2026-11-30T02:00:00+08:00", "+99:99:99"],
    "cron": ["0 2 * * SUN", "*/5 * * * *", "0 0 31 2 *", "@daily", "0 0 29 2 *"], "count": [1, 3, 0, 10_001],
    "until": ["+2d 00:00:00", "2026-12-30T00:00:00Z"], "accounts": [["*"], ["900001"], ["*", "a"]],
    "duration": ["00:05:00", "00:00:00", "24:00:00"], "reason": ["r", ""], "mode": ["refuse", "enforce", "x"],
    "notice": [["00:10:00"], ["00:20:00", "00:01:00"], []], "rate": [5, 0, 1e9], "factor": [0.3, 1, 2],
    "window": [4, 0], "sessions": ["all", 2, 0], "ratio": [0.5, 2], "code": [{"cmpp": 8, "smpp": "ESME_RSYSERR"},
                                                                            {"cmpp": 8, "smpp": 0}],
    "latency": [{"min": 0.1, "max": 0.5}, {"min": 1, "max": 0}], "delay": [{"min": 30, "max": 120}],
    "outcomes": [[{"stat": "UNDELIV", "weight": 1, "err": 1}], []], "notice_delay": [0, 5.5, -1],
    "recipients": [50, 0], "within": [60.0, 0], "title": ["t"], "text": ["x"],
}
plain_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
# TOML offsets are whole minutes: no historical zones (LMT is -00:16:08 in Africa/Abidjan)
zones = st.sampled_from([UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5, minutes=-30))])
dates = st.dates() | st.times() | st.datetimes() | st.datetimes(timezones=zones)
scalars = st.booleans() | st.integers() | st.floats() | plain_text | dates
anything = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                        | st.dictionaries(plain_text, inner, max_size=3), max_leaves=6)


@st.composite
def events(draw: st.DrawFn) -> dict:
    keys = draw(st.lists(st.sampled_from(sorted(MODEL)) | plain_text, max_size=9, unique=True))
    keys = ["kind", *keys] if draw(st.integers(0, 5)) else keys
    event = {}
    for key in keys:
        model = MODEL.get(key)
        event[key] = draw(st.sampled_from(model)) if model and draw(st.integers(0, 4)) else draw(anything)
    return event


@settings(max_examples=200, deadline=None)
@given(
    top=st.fixed_dictionaries({}, optional={
        "schema": st.sampled_from([1, 1, 2, "1"]), "name": st.sampled_from(["t", "", "a b"]),
        "description": plain_text, "seed": st.integers(), "timezone": st.sampled_from(["Asia/Shanghai", "UTC", "x"]),
    }),
    listed=st.lists(events(), max_size=3),
)
def test_any_toml_document_gives_a_scenario_or_one_error(scratch, top, listed):
    lines = [f"{toml_string(key)} = {toml_value(value)}" for key, value in top.items()]
    for event in listed:
        lines += ["[[events]]", *(f"{toml_string(key)} = {toml_value(value)}" for key, value in event.items())]
    text = "\n".join(lines) + "\n"
    tomllib.loads(text)  # valid TOML: the schema is under test, not the parser
    path = write(scratch, text)
    assert_only_scenario_error(path, text.count("\n") + 1)


def test_an_id_taken_by_a_default_one_says_so(tmp_path):
    text = BASE.replace('id = "up"\n', "") + FAULT.replace('kind = "fault"', 'id = "maintenance-1"\nkind = "fault"')
    assert error_of(tmp_path, text) == (
        13, 'events[1].id "maintenance-1" is already used by events[0] (its default id)')
