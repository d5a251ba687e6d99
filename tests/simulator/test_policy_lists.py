"""Content lists: keywords and patterns, scanned as one pattern, or one by one when they cannot be combined."""

from __future__ import annotations

import pytest

from simulator.config import parse_account_option
from simulator.policy import Check, Mode, Policy, PolicySettings, load_content_lists

ACCOUNT = parse_account_option("900001:888888:10690001")


def breaches(lists, text: str) -> dict[str, object]:
    policy = Policy(PolicySettings(content=lists, modes={"content": Mode.ENFORCE, "advertising": Mode.ENFORCE}))
    check = Check(account=ACCOUNT, source="10690001", destinations=("13800138000",), text=text, service_id="",
                  msg_src=None, fee_type=None, now=0.0)
    return {v.rule: dict(v.evidence) for v in policy.check(check) if v.rule in ("content", "advertising")}


@pytest.mark.parametrize("clashing", [False, True])
def test_categories_and_ads_are_found_either_way(tmp_path, clashing):
    group = "(?P<x>" if clashing else "("  # the same group name twice cannot be combined into one pattern
    (tmp_path / "lists.toml").write_text(
        f'advertising = ["re:{group}discount)", "促销"]\n'
        f'[categories]\nfirst = ["re:{group}alpha)"]\nsecond = ["re:{group}BETA)"]\n', encoding="utf-8")
    lists = load_content_lists(tmp_path / "lists.toml")
    assert (lists.scan is None) is clashing
    assert breaches(lists, "say beta now") == {"content": {"category": "second", "matched": "beta"}}
    assert breaches(lists, "ALPHA and 促销") == {"content": {"category": "first", "matched": "ALPHA"},
                                                "advertising": {"matched": "促销"}}
    assert breaches(lists, "nothing here") == {}


def test_the_shipped_lists_are_placeholders_in_nine_categories():
    lists = load_content_lists()
    assert len(lists.categories) == 9 and lists.scan is not None
    assert breaches(lists, "x [TEST-PROHIBITED-4] y")["content"]["category"] == "ethnic_hatred"


def test_a_bad_pattern_is_one_clear_error(tmp_path):
    (tmp_path / "bad.toml").write_text('[categories]\nfirst = ["re:(unclosed"]\n', encoding="utf-8")
    with pytest.raises(ValueError, match="bad pattern"):
        load_content_lists(tmp_path / "bad.toml")
