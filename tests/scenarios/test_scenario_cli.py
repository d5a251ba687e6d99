"""`smsclab scenario check FILE` and `smsclab scenario list`."""

from __future__ import annotations

import pytest
from scenario_support import READY, write

from simulator.cli import main

START = "2026-11-30T02:00:00+08:00"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_check_prints_the_timeline_as_a_table(capsys):
    status, out, err = run(capsys, "scenario", "check", str(READY / "maintenance-window.toml"), "--start", START)
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == f"scenario maintenance-window ({READY / 'maintenance-window.toml'})"
    assert lines[1].startswith("  Planned SMSC upgrade")
    assert lines[2] == "  1 event(s), 4 step(s); seed 42; start 2026-11-30 02:00:00 Asia/Shanghai"
    table = lines[4:]
    assert table[0].split() == ["time", "(Asia/Shanghai)", "offset", "action", "event", "kind", "accounts", "detail"]
    rows = [line.split(None, 7) for line in table[1:]]
    assert [row[:7] for row in rows] == [
        ["2026-11-30", "02:05:00", "+00:05:00", "notice", "upgrade", "maintenance", "*"],
        ["2026-11-30", "02:14:00", "+00:14:00", "notice", "upgrade", "maintenance", "*"],
        ["2026-11-30", "02:15:00", "+00:15:00", "begin", "upgrade", "maintenance", "*"],
        ["2026-11-30", "02:20:00", "+00:20:00", "end", "upgrade", "maintenance", "*"],
    ]
    assert rows[0][7] == ("advance notice 00:10:00 ahead: outage (terminate): SMSC software upgrade, for 00:05:00")
    assert rows[3][7] == "outage over: service restored"


def test_check_accepts_the_name_of_a_ready_scenario(capsys):
    status, out, _ = run(capsys, "scenario", "check", "certification", "--start", START)
    assert status == 0
    assert "9 step(s)" in out
    assert "2026-11-30 02:07:00   +00:07:00  apply   recovery" in out


def test_check_with_a_horizon_leaves_out_later_occurrences(capsys):
    status, out, _ = run(capsys, "scenario", "check", "soak", "--start", START, "--horizon", "01:00:00")
    assert status == 0
    assert "+00:00:00  apply   day-start" in out
    assert "bulk-enforce" not in out
    assert "+08:00:00  end     bulk-monitor" in out  # the end of an occurrence begun inside the horizon


def test_check_prints_a_scenario_error_as_one_line_and_exits_2(capsys, tmp_path):
    path = write(tmp_path, 'schema = 1\nname = "x"\n[[events]]\nkind = "outage"\nat = "+00:01:00"\n')
    status, out, err = run(capsys, "scenario", "check", str(path))
    assert (status, out) == (2, "")
    assert err == (f"smsclab scenario: error: {path}:4: events[0].kind must be one of maintenance, throttle, "
                   'capacity, fault, bulk_guard, notice, got "outage"\n')
    status, _, err = run(capsys, "scenario", "check", str(tmp_path / "absent.toml"))
    assert (status, err) == (2, f"smsclab scenario: error: {tmp_path / 'absent.toml'}: no such file\n")


@pytest.mark.parametrize(("option", "value"), [("--start", "tomorrow"), ("--start", "2026-11-30T02:00:00"),
                                                ("--horizon", "7d")])
def test_bad_options_exit_2(capsys, option, value):
    with pytest.raises(SystemExit) as caught:
        main(["scenario", "check", "certification", option, value])
    assert caught.value.code == 2
    assert f"argument {option}: " in capsys.readouterr().err


def test_list_shows_the_ready_scenarios(capsys):
    status, out, err = run(capsys, "scenario", "list")
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].split() == ["name", "file", "description"]
    names = [line.split()[0] for line in lines[1:]]
    assert names == ["bulk-abuse", "certification", "emergency-cut", "gateway-faults", "maintenance-window",
                     "overload-throttle", "soak"]
    assert any(str(READY / "soak.toml") in line and "A day of mixed events" in line for line in lines)


def test_list_reads_smsclab_scenarios_and_flags_invalid_files(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("SMSCLAB_SCENARIOS", str(tmp_path))
    write(tmp_path, (READY / "bulk-abuse.toml").read_text(encoding="utf-8"), "good.toml")
    write(tmp_path, "schema = 1\n", "broken.toml")
    status, out, _ = run(capsys, "scenario", "list")
    assert status == 1
    assert f"broken      {tmp_path / 'broken.toml'}  INVALID: {tmp_path / 'broken.toml'}: the file is missing" in out
    assert "bulk-abuse" in out
    # a ready name resolves in that directory too
    status, out, _ = run(capsys, "scenario", "check", "good", "--start", START)
    assert status == 0 and "bulk-guard" in out


def test_list_without_scenarios_is_an_error(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("SMSCLAB_SCENARIOS", str(tmp_path / "nowhere"))
    status, out, err = run(capsys, "scenario", "list")
    assert (status, out) == (2, "")
    assert err.startswith(f"smsclab scenario: error: no scenario files in {tmp_path / 'nowhere'}")
