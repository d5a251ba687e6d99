"""Every bench/ script runs end to end, briefly, and prints its figures (their values are not judged here).

The scripts are what issue 7's figures come from; nothing else runs them, so without this a script can rot
unnoticed (a run that only fails with fractional durations, an assertion about a loop's transport type).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
#: Well above what each run takes on the 2-core test machine (2 to 15 s); a hang fails instead of blocking CI.
TIMEOUT_SECONDS = 180

pytestmark = pytest.mark.bench


def launch(script: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    """Run ``bench/<script>`` to its end, from the project's root."""
    return subprocess.run([sys.executable, str(BENCH / script), *arguments], check=False, capture_output=True,
                          text=True, timeout=TIMEOUT_SECONDS, cwd=BENCH.parent)


def run(script: str, *arguments: str) -> str:
    """Run ``bench/<script>`` and return its output; a non-zero exit fails the test with that output."""
    done = launch(script, *arguments)
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{script} exited with {done.returncode}:\n{output}"
    return output


def lines_starting(output: str, prefix: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith(prefix)]


def test_codec_prints_both_paths_for_each_pdu() -> None:
    output = run("codec.py", "--seconds", "0.02")
    for pdu in ("CMPP 3.0 SUBMIT", "SMPP submit_sm", "SMPP deliver_sm"):
        assert {line.split()[len(pdu.split())] for line in lines_starting(output, pdu)} == \
            {"fast", "construct", "speed-up"}, output


def test_hotpath_answers_every_submit_and_acknowledges_every_receipt() -> None:
    output = run("hotpath.py", "--protocol", "both", "--submits", "256", "--receipts")
    for protocol in ("SMPP", "CMPP"):
        (figures,) = lines_starting(output, protocol)
        assert figures.split()[1:5] == ["256", "OK", "0", "refused"], output
    assert output.count("receipts 256 of 256 acknowledged") == 2, output


def test_floor_prints_its_three_steps_against_the_budget() -> None:
    output = run("floor.py", "--submits", "512")
    assert [line.split()[0] for line in output.splitlines()
            if line.split() and line.split()[0] in ("codec", "+")] == ["codec", "+", "+"], output
    assert lines_starting(output, "+ store") and lines_starting(output, "+ receipts"), output
    assert "a budget of 20 us per submit" in output


def test_store_scale_builds_and_reports_a_small_store() -> None:
    output = run("store_scale.py", "--messages", "2000")
    assert any(line.split()[:1] == ["2,000"] for line in output.splitlines()), output


def test_loadgen_drives_both_protocols_and_finds_every_ok_stored() -> None:
    output = run("loadgen.py", "--protocol", "both", "--sessions", "2", "--window", "4", "--seconds", "0.5",
                 "--warmup", "0.1")
    assert lines_starting(output, "SMPP") and lines_starting(output, "CMPP"), output


def test_compare_runs_every_target_and_the_scale_and_idle_figures() -> None:
    output = run("compare.py", "--seconds", "0.5", "--warmup", "0.1", "--no-half", "--scale-sessions", "8",
                 "--idle-sessions", "16")
    for target in ("struct responder", "smpp34 server", "smsclab SMPP", "smsclab CMPP"):
        assert lines_starting(output, target), output
    assert [line.split()[-1] for line in output.splitlines() if line.startswith("smsclab ")
            and len(line.split()) > 10] == ["OK", "OK"], output
    assert lines_starting(output, "scale: smsclab SMPP with 8 sessions"), output
    (idle,) = lines_starting(output, "idle: smsclab SMPP holding 16 more bound sessions")
    assert "every session probed" in idle


def test_locust_bench_takes_fractional_durations_and_gives_a_verdict() -> None:
    output = run("locust_bench.py", "--seconds", "1", "--warmup", "0.5")
    assert lines_starting(output, "verdict:"), output
    assert "PROBLEM" not in output, output


@pytest.mark.parametrize(("script", "arguments"), [
    ("compare.py", ("--idle-sessions", "0")),
    ("compare.py", ("--scale-sessions", "-5")),
    ("compare.py", ("--scale-window", "0")),
    ("floor.py", ("--submits", "0")),
    ("hotpath.py", ("--window", "0")),
])
def test_a_bad_count_is_refused_in_one_line_before_anything_runs(script: str, arguments: tuple[str, ...]) -> None:
    done = launch(script, *arguments)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stdout == "" and done.stderr.splitlines()[-1].startswith(f"{script}: error: "), done.stderr
