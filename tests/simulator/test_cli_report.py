"""`smsclab report billing`: the month's statement (or statistics) of the hand-computed month of test_billing."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from test_billing import EXPECTED_STATEMENTS, EXPECTED_STATISTICS, MONTH, populate, write_config

from simulator.billing import PortStatistics, Statement, render
from simulator.cli import main
from simulator.store import Store

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("data")
    asyncio.run(populate(directory))
    return directory


@pytest.fixture(scope="module")
def config_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_config(tmp_path_factory.mktemp("config"))


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_the_statement_is_printed_in_each_format(capsys, store_dir, config_file, fmt):
    status, out, err = run(capsys, "report", "billing", "--month", MONTH, "--data-dir", str(store_dir),
                           "--config", str(config_file), "--format", fmt)
    assert (status, err) == (0, "")
    assert out == render(EXPECTED_STATEMENTS, fmt)


@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_statistics_are_printed_in_each_format(capsys, store_dir, config_file, fmt):
    status, out, err = run(capsys, "report", "billing", "--month", MONTH, "--data-dir", str(store_dir),
                           "--config", str(config_file), "--format", fmt, "--statistics")
    assert (status, err) == (0, "")
    assert out == render(EXPECTED_STATISTICS, fmt)


def test_the_default_format_is_a_table(capsys, store_dir, config_file):
    status, out, _ = run(capsys, "report", "billing", "--month", MONTH, "--data-dir", str(store_dir),
                         "--config", str(config_file))
    assert status == 0
    assert out.splitlines()[1].split() == ["2026-11", "900001", "yes", "500.00", "3", "10", "7", "0.055", "0.39",
                                           "no", "3", "33.335", "100.01", "600.40"]


def test_json_and_csv_carry_the_exact_totals(capsys, store_dir, config_file):
    common = ("report", "billing", "--month", MONTH, "--data-dir", str(store_dir), "--config", str(config_file))
    _, out, _ = run(capsys, *common, "--format", "json")
    totals = {document["account"]: Decimal(document["total"]) for document in json.loads(out)}
    assert totals == {"900001": Decimal("600.40"), "900002": Decimal("300.50"), "900003": Decimal("100.00"),
                      "900008": Decimal("0.00"), "900009": Decimal("0.00")}
    _, out, _ = run(capsys, *common, "--format", "csv")
    assert {row["account"]: Decimal(row["total"]) for row in csv.DictReader(io.StringIO(out))} == totals


def test_the_store_defaults_to_the_configured_data_dir(capsys, store_dir, tmp_path):
    config = write_config(tmp_path, data_dir=store_dir)
    status, out, _ = run(capsys, "report", "billing", "--month", MONTH, "--config", str(config), "--format", "json")
    assert status == 0
    assert [document["account"] for document in json.loads(out)] == [s.account for s in EXPECTED_STATEMENTS]


def test_a_month_without_traffic_still_bills_the_rent(capsys, store_dir, config_file):
    status, out, _ = run(capsys, "report", "billing", "--month", "2025-01", "--data-dir", str(store_dir),
                         "--config", str(config_file), "--format", "csv")
    assert status == 0
    assert [row["total"] for row in csv.DictReader(io.StringIO(out))] == ["500.00", "300.50", "100.00"]


def test_statistics_of_an_empty_store_and_no_accounts_print_the_header(capsys, tmp_path):
    asyncio.run(_empty_store(tmp_path))
    config = tmp_path / "no-accounts.toml"
    config.write_text("[gateway]\ntimezone = \"UTC\"\n", encoding="utf-8")
    status, out, _ = run(capsys, "report", "billing", "--month", MONTH, "--data-dir", str(tmp_path),
                         "--config", str(config), "--statistics", "--format", "csv")
    assert status == 0
    # the embedded default account 900001 (service code 10690001) is configured: an idle port is listed
    assert out == render([PortStatistics(MONTH, "900001", "10690001", *[0] * 11)], "csv")
    assert render([], "csv", kind=Statement).startswith("month,account,configured,")


async def _empty_store(directory: Path) -> None:
    from simulator.store import Store

    store = await Store.open(directory)
    await store.close()


# -- mistakes: one line, exit status 2 -------------------------------------------------------------------------------


@pytest.mark.parametrize("month", ["2026-13", "November", "2026-1", "2026-11-01"])
@pytest.mark.parametrize("statistics", [[], ["--statistics"]])
def test_a_bad_month_is_one_line_and_exit_2(capsys, store_dir, config_file, month, statistics):
    status, out, err = run(capsys, "report", "billing", "--month", month, "--data-dir", str(store_dir),
                           "--config", str(config_file), *statistics)
    assert (status, out) == (2, "")
    assert err == f"smsclab report: error: month must be YYYY-MM (e.g. 2026-11), got {month!r}\n"


@pytest.mark.parametrize("statistics", [[], ["--statistics"]])
def test_a_missing_store_is_one_line_and_exit_2(capsys, tmp_path, config_file, statistics):
    status, out, err = run(capsys, "report", "billing", "--month", MONTH, "--data-dir", str(tmp_path / "empty"),
                           "--config", str(config_file), *statistics)
    assert (status, out) == (2, "")
    assert err == f"smsclab report: error: no store at {tmp_path / 'empty' / 'smsclab.sqlite'}\n"


def test_a_missing_config_file_is_one_line(capsys, store_dir, tmp_path):
    status, out, err = run(capsys, "report", "billing", "--month", MONTH, "--data-dir", str(store_dir),
                           "--config", str(tmp_path / "absent.toml"))
    assert (status, out) == (2, "")
    assert err.count("\n") == 1 and "absent.toml" in err


def test_a_file_that_is_not_a_store_is_one_line(capsys, tmp_path, config_file):
    (tmp_path / "smsclab.sqlite").write_text("hello", encoding="utf-8")
    status, out, err = run(capsys, "report", "billing", "--month", MONTH, "--data-dir", str(tmp_path),
                           "--config", str(config_file))
    assert (status, out) == (2, "")
    assert err.count("\n") == 1 and err.startswith("smsclab report: error: ")


def test_report_is_a_group_of_reports(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["report"])
    assert exited.value.code == 2
    with pytest.raises(SystemExit) as exited:
        main(["report", "--help"])
    assert exited.value.code == 0
    assert "billing" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exited:
        main(["report", "billing", "--month", MONTH, "--format", "xml"])
    assert exited.value.code == 2


def test_the_console_script_runs_it(store_dir, config_file):
    """Through the interpreter, as a partner runs it: stdout is the statement, nothing on stderr."""
    done = subprocess.run([sys.executable, "-m", "simulator.cli", "report", "billing", "--month", MONTH,
                           "--data-dir", str(store_dir), "--config", str(config_file), "--format", "json"],
                          cwd=REPO, capture_output=True, text=True, timeout=60, check=False)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == render(EXPECTED_STATEMENTS, "json")
    bad = subprocess.run([sys.executable, "-m", "simulator.cli", "report", "billing", "--month", "2026-1",
                          "--data-dir", str(store_dir), "--config", str(config_file)],
                         cwd=REPO, capture_output=True, text=True, timeout=60, check=False)
    assert bad.returncode == 2
    assert bad.stdout == "" and bad.stderr.count("\n") == 1


def test_serve_with_a_store_it_cannot_open_says_so_in_one_line(tmp_path):
    data = tmp_path / "data"
    (data / "smsclab.sqlite").mkdir(parents=True)  # a directory where the database file should be
    done = subprocess.run([sys.executable, "-m", "simulator.cli", "serve", "--data-dir", str(data),
                           "--cmpp-port", "0", "--smpp-port", "0", "--api-port", "0"],
                          cwd=REPO, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "cannot start" in done.stderr and "smsclab.sqlite" in done.stderr


# -- report compliance -------------------------------------------------------------------------------------

def _compliance_store(tmp_path: Path, events: list[tuple[float, str, str | None, dict[str, object]]]) -> Path:
    """A store holding just these audit events."""

    async def build() -> None:
        store = await Store.open(tmp_path)
        for at, kind, account, detail in events:
            store.record_event(at, kind, account, detail)
        await store.flush()
        await store.close()

    asyncio.run(build())
    return tmp_path


def test_report_compliance_passes_a_quiet_partner_and_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    data = _compliance_store(tmp_path, [(100.0, "session.bound", "900001", {"session": "smpp-1", "account": "900001"})])
    status = main(["report", "compliance", "--data-dir", str(data), "--format", "json"])
    out = capsys.readouterr().out
    assert status == 0
    document = json.loads(out)
    assert document["failed"] == 0 and {v["check"] for v in document["verdicts"]} >= {"rate", "window"}


def test_report_compliance_exits_3_when_a_check_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    storm = [(100.0 + i * 0.01, "protocol.violation", "900001",
              {"session": "smpp-1", "account": "900001", "kind": "window", "sequence": i}) for i in range(10)]
    data = _compliance_store(tmp_path, storm)
    status = main(["report", "compliance", "--data-dir", str(data), "--format", "junit"])
    out = capsys.readouterr().out
    assert status == 3
    assert "<failure" in out and "900001.window" in out


def test_report_compliance_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["report", "compliance", "--data-dir", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no store here" in err
    data = _compliance_store(tmp_path, [])
    assert main(["report", "compliance", "--data-dir", str(data), "--account", "nobody"]) == 2
    assert "no account 'nobody'" in capsys.readouterr().err
