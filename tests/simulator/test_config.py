"""simulator/config.py: the embedded default, file overrides, one-line errors with their line, dump round trips."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path
from types import MappingProxyType

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import simulator
from simulator.config import (
    DEFAULT_CONFIG_TOML,
    POLICY_MODES,
    POLICY_RULES,
    Account,
    AuditConfig,
    CmppSettings,
    Config,
    ConfigError,
    DlrProfile,
    Listener,
    NoticeConfig,
    Outcome,
    PolicyConfig,
    SmppSettings,
    _line_index,
    _locate,
    dump_config,
    load_config,
    parse_account_option,
    with_overrides,
)

DEMO = Account(id="900001", secret="888888", service_codes=("10690001",))
DEFAULT = Config(
    cmpp=CmppSettings(listener=Listener("127.0.0.1", 7890), gateway_code=1, versions=(0x20, 0x21, 0x30),
                      keepalive_interval=180.0, response_timeout=60.0, keepalive_attempts=3, connect_timeout=10.0,
                      profile="spec", max_frame=4096),
    smpp=SmppSettings(listener=Listener("127.0.0.1", 2775), system_id="smsclab", enquire_link_interval=30.0,
                      response_timeout=30.0, keepalive_attempts=3, bind_timeout=10.0, inactivity_timeout=None,
                      profile="spec", max_frame=66048),
    api=Listener("127.0.0.1", 8080),
    data_dir=Path("smsclab-data"),
    timezone="Asia/Shanghai",
    mask_numbers=True,
    accounts=(Account(id="900001", secret="888888", service_codes=("10690001",), service_ids=(), rate=None,
                      window=16, max_connections=4, allow_ips=("127.0.0.0/8", "::1/128"), dlr_profile="default",
                      message_id_format="hex", approved_ads=False, approved_fees=False, policy=MappingProxyType({}),
                      rent=0.0, free_quota=0, message_fee=0.0, ad_penalty=10.0, webhook=""),),
    dlr_profiles={
        "default": DlrProfile("default", 1.0, 3.0, (Outcome("DELIVRD", 1.0, 0),), 30.0, 10),
        "mixed": DlrProfile("mixed", 1.0, 3.0, (Outcome("DELIVRD", 90.0), Outcome("UNDELIV", 5.0, 1),
                                                 Outcome("EXPIRED", 3.0, 2), Outcome("REJECTD", 2.0, 3)), 30.0, 10),
    },
    policy=PolicyConfig(modes=MappingProxyType({}), number_ranges=("135", "136", "137", "138", "139"),
                        max_recipients=2, bulk_recipients=100, bulk_window=60.0,
                        unsubscribe_words=("TD", "退订", "0000"), suspend_after=0, suspend_window=3600.0,
                        content_file=None),
    audit=AuditConfig(retention_days=62),
    notices=NoticeConfig(system_number="10086", inband=False, fault_delay=0.0, webhook_retries=5, webhook_timeout=5.0),
)
SHIPPED_CONTENT = Path(simulator.__file__).parent / "data" / "content_rules.toml"

ACCOUNT = '[[accounts]]\nid = "900001"\nsecret = "888888"\nservice_codes = ["10690001"]\n'


def write(directory: Path, text: str, name: str = "smsclab.toml") -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(directory: Path, text: str) -> str:
    """The error for a file holding ``text``, without the file name: ``":LINE: message"``."""
    path = write(directory, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.file == str(path)
    return str(caught.value).removeprefix(str(path))


# --- the embedded default ------------------------------------------------------------------------------


def test_the_default_has_the_documented_values():
    assert load_config() == DEFAULT
    assert load_config(None) == DEFAULT


def test_the_default_agrees_with_the_dataclass_defaults():
    config = load_config()
    assert config.cmpp == CmppSettings()
    assert config.smpp == SmppSettings()
    assert config.dlr_profiles["default"] == DlrProfile("default")
    assert config.accounts == (DEMO,)
    assert (config.policy, config.audit, config.notices) == (PolicyConfig(), AuditConfig(), NoticeConfig())
    assert Config(config.cmpp, config.smpp, config.api, config.data_dir, config.timezone, config.mask_numbers,
                  config.accounts, config.dlr_profiles) == config  # the new tables need not be given


def test_the_policy_names_are_those_of_simulator_policy():
    from simulator.policy import RULES_BY_NAME, Mode

    assert tuple(RULES_BY_NAME) == POLICY_RULES
    assert tuple(mode.value for mode in Mode) == POLICY_MODES


def test_the_default_lists_every_rule_with_its_default_mode():
    from simulator.policy import RULES

    section = DEFAULT_CONFIG_TOML.split("\n[policy.modes]\n")[1].split("\n\n")[0]
    listed = dict(re.findall(r'^# (\w+) = "(\w+)"$', section, re.MULTILINE))
    assert listed == {rule.name: rule.default.value for rule in RULES}
    assert list(listed) == list(POLICY_RULES)


def test_the_commented_examples_of_the_default_are_valid(tmp_path):
    uncommented = re.sub(r"^# (\w+ = )", r"\1", DEFAULT_CONFIG_TOML, flags=re.MULTILINE)
    config = load_config(write(tmp_path, uncommented))
    assert config.policy.modes == {"caller_number": "enforce", "service_code": "enforce", "msg_src": "enforce",
                                   "service_id": "enforce", "fee": "enforce", "number_range": "enforce",
                                   "group_size": "enforce", "subscribers": "monitor", "content": "monitor",
                                   "advertising": "monitor", "bulk": "monitor"}
    assert config.accounts == (dataclasses.replace(
        DEMO, rate=100.0, approved_ads=True, approved_fees=True, policy={"advertising": "enforce", "bulk": "off"},
        rent=2000.0, free_quota=100000, message_fee=0.05, ad_penalty=20.0,
        webhook="https://sp.example.com/smsclab/notices"),)


def test_the_default_writes_out_every_key_and_explains_each():
    document = tomllib.loads(DEFAULT_CONFIG_TOML)
    listener_fields = {"host", "port"}
    assert set(document["cmpp"]) == {f.name for f in dataclasses.fields(CmppSettings)} - {"listener"} | listener_fields
    assert set(document["smpp"]) == {f.name for f in dataclasses.fields(SmppSettings)} - {"listener"} | listener_fields
    assert set(document["api"]) == listener_fields
    assert set(document["gateway"]) == {"timezone", "data_dir", "mask_numbers"}
    assert set(document["policy"]) == {f.name for f in dataclasses.fields(PolicyConfig)}
    assert document["policy"]["modes"] == {}  # every rule keeps its default: listed, commented out
    assert set(document["audit"]) == {f.name for f in dataclasses.fields(AuditConfig)}
    assert set(document["notices"]) == {f.name for f in dataclasses.fields(NoticeConfig)}
    for field in dataclasses.fields(Account):  # rate and the newer keys only as commented examples: defaults
        assert re.search(rf"^(# )?{field.name} = ", DEFAULT_CONFIG_TOML, re.MULTILINE), field.name
    lines = DEFAULT_CONFIG_TOML.splitlines()
    for number, line in enumerate(lines):
        if re.match(r"\w+ = ", line):
            above = number - 1  # walk up over the keys (and array lines) sharing one comment
            while re.match(r"\w+ = |\s|\]", lines[above]):
                above -= 1
            assert lines[above].startswith("#"), f"no comment explains {line!r}"


def test_config_finds_an_account_by_id():
    config = load_config()
    assert config.account("900001") == DEMO
    assert config.account("900002") is None


# --- a file laid over the default ----------------------------------------------------------------------


def test_a_file_changes_only_the_keys_it_names(tmp_path):
    config = load_config(write(tmp_path, "[cmpp]\nport = 17890\n\n[smpp]\ninactivity_timeout = 300\n"))
    assert config.cmpp == dataclasses.replace(DEFAULT.cmpp, listener=Listener("127.0.0.1", 17890))
    assert config.smpp == dataclasses.replace(DEFAULT.smpp, inactivity_timeout=300.0)
    assert (config.api, config.accounts, config.dlr_profiles) == (DEFAULT.api, DEFAULT.accounts, DEFAULT.dlr_profiles)


def test_a_file_sets_the_policy_audit_notices_and_account_terms(tmp_path):
    text = (
        '[policy]\nnumber_ranges = ["147", "15", "18"]\nmax_recipients = 1\nbulk_recipients = 500\n'
        'bulk_window = 300\nunsubscribe_words = ["STOP", "取消"]\nsuspend_after = 10\nsuspend_window = 86400\n'
        f'content_file = "{SHIPPED_CONTENT}"\n'
        '[policy.modes]\ncontent = "enforce"\nfee = "off"\n'
        "[audit]\nretention_days = 31\n"
        '[notices]\nsystem_number = "1008611"\ninband = true\nfault_delay = 2.5\nwebhook_retries = 0\n'
        "webhook_timeout = 30\n"
        + ACCOUNT
        + 'approved_ads = true\napproved_fees = true\npolicy = { advertising = "enforce", "bulk" = "off" }\n'
        'rent = 1500\nfree_quota = 20000\nmessage_fee = 0.04\nad_penalty = 100\n'
        'webhook = "http://[::1]:8443/notices?sp=900001"\n'
    )
    config = load_config(write(tmp_path, text))
    assert config.policy == PolicyConfig(
        modes={"content": "enforce", "fee": "off"}, number_ranges=("147", "15", "18"), max_recipients=1,
        bulk_recipients=500, bulk_window=300.0, unsubscribe_words=("STOP", "取消"), suspend_after=10,
        suspend_window=86400.0, content_file=SHIPPED_CONTENT)
    assert config.audit == AuditConfig(31)
    assert config.notices == NoticeConfig("1008611", inband=True, fault_delay=2.5, webhook_retries=0,
                                          webhook_timeout=30.0)
    assert config.accounts == (dataclasses.replace(
        DEMO, approved_ads=True, approved_fees=True, policy={"advertising": "enforce", "bulk": "off"}, rent=1500.0,
        free_quota=20000, message_fee=0.04, ad_penalty=100.0, webhook="http://[::1]:8443/notices?sp=900001"),)
    assert (config.cmpp, config.dlr_profiles) == (DEFAULT.cmpp, DEFAULT.dlr_profiles)


def test_a_file_changes_only_the_policy_keys_it_names(tmp_path):
    config = load_config(write(tmp_path, "[policy]\nmax_recipients = 50\n[notices]\ninband = true\n"))
    assert config.policy == dataclasses.replace(DEFAULT.policy, max_recipients=50)
    assert config.notices == dataclasses.replace(DEFAULT.notices, inband=True)
    assert config.audit == DEFAULT.audit
    assert load_config(write(tmp_path, '[policy]\ncontent_file = ""\n')).policy.content_file is None


def test_the_mode_tables_are_read_only(tmp_path):
    config = load_config(write(tmp_path, '[policy.modes]\nbulk = "enforce"\n' + ACCOUNT + 'policy = { fee = "off" }\n'))
    assert isinstance(config.policy.modes, MappingProxyType)
    assert isinstance(config.accounts[0].policy, MappingProxyType)
    assert isinstance(PolicyConfig().modes, MappingProxyType) and isinstance(DEMO.policy, MappingProxyType)
    with pytest.raises(TypeError):
        config.policy.modes["bulk"] = "off"  # type: ignore[index]
    assert hash(config.accounts[0]) == hash(dataclasses.replace(config.accounts[0], policy={}))  # still hashable


def test_a_relative_content_file_is_relative_to_the_working_directory(tmp_path, monkeypatch):
    write(tmp_path, "advertising = []\n", name="rules.toml")
    monkeypatch.chdir(tmp_path)
    assert load_config(write(tmp_path, '[policy]\ncontent_file = "rules.toml"\n')).policy.content_file == Path(
        "rules.toml")


def test_an_empty_file_is_the_default(tmp_path):
    assert load_config(write(tmp_path, "")) == DEFAULT


def test_file_accounts_replace_the_default_ones_and_profiles_replace_or_add(tmp_path):
    text = (
        '[[accounts]]\nid = "sp01"\nsecret = "pw"\nservice_codes = ["1069009", "1069010"]\nrate = 50\n'
        'service_ids = ["MJT0019901"]\nallow_ips = ["10.1.0.0/16", "::1"]\ndlr_profile = "fast"\n'
        "[dlr_profiles.mixed]\ndelay = [0, 0]\n"
        '[dlr_profiles.fast]\ndelay = [0, 0.5]\noutcomes = [{ stat = "MK:0005", weight = 0.5, err = 7 }]\n'
    )
    config = load_config(write(tmp_path, text))
    assert config.accounts == (Account("sp01", "pw", ("1069009", "1069010"), ("MJT0019901",), rate=50.0,
                                       allow_ips=("10.1.0.0/16", "::1/128"), dlr_profile="fast"),)
    assert config.dlr_profiles == {
        "default": DEFAULT.dlr_profiles["default"],
        "mixed": DlrProfile("mixed", 0.0, 0.0),  # replaced as a whole: the default's outcome mix is gone
        "fast": DlrProfile("fast", 0.0, 0.5, (Outcome("MK:0005", 0.5, 7),)),
    }


def test_versions_take_names_or_wire_values(tmp_path):
    config = load_config(write(tmp_path, '[cmpp]\nversions = [48, "2.0", "3.0"]\n'))
    assert config.cmpp.versions == (0x20, 0x30)


def test_a_bom_and_crlf_line_ends_are_read(tmp_path):
    path = tmp_path / "windows.toml"
    path.write_bytes(b"\xef\xbb\xbf[cmpp]\r\nport = 1\r\n")
    assert load_config(path).cmpp.listener.port == 1
    path.write_bytes(b'[cmpp]\r\nport = 1\r\n\r\nprofile = "x"\r\n')
    with pytest.raises(ConfigError, match=r":4: cmpp\.profile must be"):
        load_config(path)


# --- one line per mistake, with its line --------------------------------------------------------------

STATS = "DELIVRD, UNDELIV, EXPIRED, REJECTD, DELETED, UNKNOWN"
RULE_NAMES = ("caller_number, service_code, msg_src, service_id, fee, number_range, group_size, subscribers, content, "
              "advertising, bulk")
MISTAKES = [
    ("[cmpp]\nprot = 7890\n",
     ":2: unknown key 'cmpp.prot' (allowed: host, port, gateway_code, versions, keepalive_interval, "
     "response_timeout, keepalive_attempts, connect_timeout, profile, max_frame)"),
    ("[gateways]\ntimezone = 'UTC'\n",
     ":1: unknown key 'gateways' (allowed: gateway, cmpp, smpp, api, policy, audit, notices, accounts, dlr_profiles)"),
    ('[api]\nport = 8081\n\n[cmpp]\nport = "x"\n', ':5: cmpp.port must be an integer 0..65535, got "x"'),
    ("[cmpp]\nport = 7890.0\n", ":2: cmpp.port must be an integer 0..65535, got 7890.0"),
    ("[cmpp]\nport = 1979-05-27T07:32:00\n", ":2: cmpp.port must be an integer 0..65535, got 1979-05-27T07:32:00"),
    ("[cmpp]\nport = 0x" + "f" * 5000 + "\n", ":2: cmpp.port must be an integer 0..65535, got a very large integer"),
    ('[smpp]\nprofile = "foo"\n',
     ':2: smpp.profile must be one of spec, smpp50, cloudhopper, jsmpp, smppsim, got "foo"'),
    ("[smpp]\nkeepalive_attempts = true\n", ":2: smpp.keepalive_attempts must be an integer 1..100, got true"),
    ("[smpp]\ninactivity_timeout = -1\n",
     ":2: smpp.inactivity_timeout must be a number 0..86400 (0 = none), got -1"),
    ("[cmpp]\nkeepalive_interval = nan\n", ":2: cmpp.keepalive_interval must be a number > 0 and <= 86400, got nan"),
    ("[cmpp]\nversions = [48.0]\n", ':2: cmpp.versions[0] must be one of "2.0", "2.1", "3.0", 32, 33, 48, got 48.0'),
    ('[cmpp]\nversions = ["2.0", "4.0"]\n',
     ':2: cmpp.versions[1] must be one of "2.0", "2.1", "3.0", 32, 33, 48, got "4.0"'),
    ("# a comment\n\nsmpp.max_frame = 100\n", ":3: smpp.max_frame must be an integer 128..1048576, got 100"),
    ('\n\ncmpp = { host = "::1", port = -1 }\n', ":3: cmpp.port must be an integer 0..65535, got -1"),
    ("gateway = 5\n", ":1: gateway must be a table, got 5"),
    ('[gateway]\ntimezone = "Mars/Olympus"\n',
     ':2: gateway.timezone must be an IANA time zone name such as Asia/Shanghai, got "Mars/Olympus"'),
    # the string's second line looks like a key: the locator must not take it for one
    ('[gateway]\ndata_dir = """\nmask_numbers = 1\n"""\nmask_numbers = 2\n',
     ":5: gateway.mask_numbers must be true or false, got 2"),
    (ACCOUNT + '\n[[accounts]]\nid = "900002"\nsecret = "123456789"\nservice_codes = ["10690002"]\n',
     ":8: accounts[1].secret must be 1..8 printable ASCII characters"),
    (ACCOUNT + '[[accounts]]\nid = "900001"\nsecret = "x"\nservice_codes = ["10690002"]\n',
     ':6: accounts[1].id "900001" is already used by accounts[0]'),
    (ACCOUNT + '[[accounts]]\nid = "900002"\nsecret = "x"\nservice_codes = ["10690002",\n  "10690001"]\n',
     ':9: accounts[1].service_codes[1] "10690001" is already leased to accounts[0]'),
    (ACCOUNT + 'dlr_profile = "fast"\n',
     ':5: accounts[0].dlr_profile must be one of the dlr_profiles (default, mixed), got "fast"'),
    (ACCOUNT + 'allow_ips = ["10.0.0.0/8", "10.0.0.1/8"]\n',
     ':5: accounts[0].allow_ips[1] must be a CIDR network such as 10.0.0.0/8 or ::1/128, got "10.0.0.1/8"'),
    (ACCOUNT + "rate = 0\n", ":5: accounts[0].rate must be a number > 0 and <= 1000000, got 0"),
    ('[[accounts]]\nid = "900001"\nservice_codes = ["10690001"]\n',
     ":1: accounts[0] is missing the key 'secret'"),
    ("accounts = []\n", ":1: accounts must be a non-empty array of tables, got []"),
    ("accounts = [\n  1,\n]\n", ":2: accounts[0] must be a table, got 1"),
    ('[dlr_profiles.flaky]\noutcomes = [\n  { stat = "DELIVRD", weight = 1 },\n  { stat = "LOST", weight = 1 },\n]\n',
     f':4: dlr_profiles.flaky.outcomes[1].stat must be one of {STATS} or a CMPP 3.0 code shaped XX:nnnn such as '
     'MK:0005, got "LOST"'),
    ('[dlr_profiles.flaky]\noutcomes = [\n  { stat = "DELIVRD", weight = 1 },\n  { stat = "UNDELIV", weight = 1 },\n'
     '  { stat = "EXPIRED", weight = 0 },\n]\n',
     ":5: dlr_profiles.flaky.outcomes[2].weight must be a number > 0 and <= 1000000, got 0"),
    ("[dlr_profiles.slow]\nretry_interval = 60\ndelay = [5, 1]\n",
     ":3: dlr_profiles.slow.delay must be [min, max] seconds with 0 <= min <= max <= 604800, got [5, 1]"),
    ('[dlr_profiles."a b"]\n', """:1: dlr_profiles."a b" must be 1..32 letters, digits, '_' or '-', got "a b\""""),
    # the policy, the audit log, notices and the account terms
    ('[policy.modes]\nbulk = "off"\nspam = "enforce"\n',
     f":3: unknown rule 'policy.modes.spam' (allowed: {RULE_NAMES})"),
    ('[policy.modes]\nadvertising = "block"\n',
     ':2: policy.modes.advertising must be one of off, monitor, enforce, got "block"'),
    ('[policy]\nmodes = { fee = true }\n', ":2: policy.modes.fee must be one of off, monitor, enforce, got true"),
    (ACCOUNT + 'policy = { adverts = "enforce" }\n',
     f":5: unknown rule 'accounts[0].policy.adverts' (allowed: {RULE_NAMES})"),
    (ACCOUNT + 'policy = { bulk = "Enforce" }\n',
     ':5: accounts[0].policy.bulk must be one of off, monitor, enforce, got "Enforce"'),
    (ACCOUNT + 'policy = "enforce"\n', ':5: accounts[0].policy must be a table, got "enforce"'),
    ("[audit]\nretention_days = 20\n",
     ":2: audit.retention_days must be at least 31 (agreement clause 3.8: logs kept at least one month), got 20"),
    ("[audit]\nretention_days = -1\n",
     ":2: audit.retention_days must be at least 31 (agreement clause 3.8: logs kept at least one month), got -1"),
    ("[audit]\nretention_days = 3651\n", ":2: audit.retention_days must be an integer 31..3650, got 3651"),
    ("[audit]\nretention_days = 62.0\n", ":2: audit.retention_days must be an integer 31..3650, got 62.0"),
    ("[audit]\nretention = 62\n", ":2: unknown key 'audit.retention' (allowed: retention_days)"),
    (ACCOUNT + "ad_penalty = 0\n",
     ":5: accounts[0].ad_penalty must be a number 1..100 (agreement clause 3.3: 1-100 元 per advertising message), "
     "got 0"),
    (ACCOUNT + "ad_penalty = 101\n",
     ":5: accounts[0].ad_penalty must be a number 1..100 (agreement clause 3.3: 1-100 元 per advertising message), "
     "got 101"),
    (ACCOUNT + 'webhook = "ftp://sp.example.com/notices"\n',
     ':5: accounts[0].webhook must be "" (none) or an http:// or https:// URL with a host, '
     'got "ftp://sp.example.com/notices"'),
    ('[policy]\ncontent_file = "no-such-rules.toml"\n',
     ':2: policy.content_file must be an existing file ("" for the shipped placeholder lists), '
     'got "no-such-rules.toml"'),
    ("[policy]\nnumber_ranges = []\n", ":2: policy.number_ranges must be a non-empty array of number prefixes, got []"),
    ('[policy]\nnumber_ranges = [\n  "135",\n  "+86139",\n]\n',
     ':4: policy.number_ranges[1] must be 1..11 digits, got "+86139"'),
    ('[policy]\nnumber_ranges = "135"\n',
     ':2: policy.number_ranges must be a non-empty array of number prefixes, got "135"'),
    ("[policy]\nunsubscribe_words = []\n", ":2: policy.unsubscribe_words must be a non-empty array of words, got []"),
    ('[policy]\nunsubscribe_words = ["TD", " 退订"]\n',
     ':2: policy.unsubscribe_words[1] must be a word with no spaces around it, got " 退订"'),
    ("[policy]\nmax_recipients = 0\n", ":2: policy.max_recipients must be an integer 1..100, got 0"),
    ("[policy]\nbulk_window = 0\n", ":2: policy.bulk_window must be a number > 0 and <= 86400, got 0"),
    ("[policy]\nsuspend_window = 2592001\n",
     ":2: policy.suspend_window must be a number > 0 and <= 2592000, got 2592001"),
    ("[policy]\nsuspend_after = -1\n", ":2: policy.suspend_after must be an integer 0..1000000, got -1"),
    ('[notices]\nsystem_number = "1008a"\n', ':2: notices.system_number must be 1..21 digits, got "1008a"'),
    ('[notices]\ninband = "yes"\n', ':2: notices.inband must be true or false, got "yes"'),
    ("[notices]\nwebhook_timeout = 0\n", ":2: notices.webhook_timeout must be a number > 0 and <= 300, got 0"),
    ("[notices]\nwebhook_retries = 101\n", ":2: notices.webhook_retries must be an integer 0..100, got 101"),
    ("[notices]\nfault_delay = -0.5\n", ":2: notices.fault_delay must be a number 0..86400, got -0.5"),
    (ACCOUNT + "approved_fees = 1\n", ":5: accounts[0].approved_fees must be true or false, got 1"),
    (ACCOUNT + "rent = 1e10\n", ":5: accounts[0].rent must be a number 0..1000000000, got 10000000000.0"),
    (ACCOUNT + "free_quota = 0.5\n", ":5: accounts[0].free_quota must be an integer 0..1000000000000, got 0.5"),
    (ACCOUNT + "message_fee = -0.01\n", ":5: accounts[0].message_fee must be a number 0..1000000, got -0.01"),
]


@pytest.mark.parametrize(("text", "expected"), MISTAKES)
def test_each_mistake_is_one_line_with_its_line_number(tmp_path, text, expected):
    assert error_of(tmp_path, text) == expected


def test_a_content_file_that_is_missing_is_named(tmp_path):
    missing = tmp_path / "rules" / "content.toml"
    message = error_of(tmp_path, f'[audit]\nretention_days = 90\n\n[policy]\ncontent_file = "{missing}"\n')
    assert message == f':5: policy.content_file must be an existing file ("" for the shipped placeholder lists), ' \
                      f'got "{missing}"'
    missing.parent.mkdir()  # a directory is not a file
    assert error_of(tmp_path, f'[policy]\ncontent_file = "{missing.parent}"\n').endswith(f'got "{missing.parent}"')
    long_name, with_nul = "x" * 5000, "a\\u0000b"  # too long a name, a NUL byte: refused, not raised
    assert error_of(tmp_path, f'[policy]\ncontent_file = "{long_name}"\n').endswith(f'got "{long_name}"')
    assert error_of(tmp_path, f'[policy]\ncontent_file = "{with_nul}"\n').endswith('got "a\\u0000b"')
    assert error_of(tmp_path, "[policy]\ncontent_file = 5\n").endswith("got 5")


@pytest.mark.parametrize("url", ["", "http://localhost/", "https://sp.example.com/hook?a=1",
                                 "HTTPS://[2001:db8::1]:443", "http://10.0.0.1:8080/x#y", "https://例子.测试/通知"])
def test_webhooks_that_are_accepted(tmp_path, url):
    assert load_config(write(tmp_path, ACCOUNT + f'webhook = "{url}"\n')).accounts[0].webhook == url


@pytest.mark.parametrize("url", ["sp.example.com/hook", "https://", "http:///path", "mailto:ops@example.com",
                                 "http://host:99999/", "http://host:port/", "http://[::1/", "https://sp example.com/",
                                 "http://host/\\u0007", " https://sp.example.com/"])
def test_webhooks_that_are_refused(tmp_path, url):
    message = error_of(tmp_path, ACCOUNT + f'webhook = "{url}"\n')
    expected = ':5: accounts[0].webhook must be "" (none) or an http:// or https:// URL with a host, got '
    assert message.startswith(expected)


def test_a_wrong_secret_is_not_quoted_back(tmp_path):
    message = error_of(tmp_path, ACCOUNT.replace('"888888"', '"s3cr3t-too-long"'))
    assert message == ":3: accounts[0].secret must be 1..8 printable ASCII characters"


@pytest.mark.parametrize(("text", "expected"), [
    ("[cmpp]\nport = \n", ":2: invalid TOML at column 8: Invalid value"),
    ("[cmpp]\nport = 1\nport = 2\n", ":3: invalid TOML at column 9: Cannot overwrite a value"),
    ("[cmpp]\nversions = [1,\n\n", ":2: invalid TOML at the end of the file: Invalid value"),
    ("port = " + "1" * 5000 + "\n", ": an integer has more than 4300 digits"),
    ("a = " + "[" * 5000, ": arrays or inline tables nested too deeply"),
])
def test_toml_syntax_errors_are_one_line(tmp_path, text, expected):
    assert error_of(tmp_path, text) == expected


def test_an_unreadable_file_is_one_line(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "missing.toml")
    assert str(caught.value) == f"{tmp_path / 'missing.toml'}: no such file"
    assert caught.value.line is None
    with pytest.raises(ConfigError, match=r": cannot read: Is a directory$"):
        load_config(tmp_path)
    path = tmp_path / "latin1.toml"
    path.write_bytes(b'[gateway]\ndata_dir = "caf\xe9"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == f"{path}:2: not UTF-8 text"


def test_config_error_reads_file_line_message():
    assert str(ConfigError("a.toml", 3, "oops")) == "a.toml:3: oops"
    assert str(ConfigError("--account", None, "oops")) == "--account: oops"


# --- the line locator ----------------------------------------------------------------------------------

LOCATOR_DOC = '''\
title = "x # [y]"
[a]
b = 1
"quoted.key" = 2
'lit.key' = 3
c.d = 4
s = """
e = 5
"""
# [z]
arr = [
  1,  # a comment may hold brackets ]
  [2, 3],
  { f = 6 }, 'last'
]
more = [
  "x",
]
[[t]]
g = 7
[[t]]
[t.sub]
h = 8
'''


def test_the_locator_knows_headers_keys_and_array_elements():
    tomllib.loads(LOCATOR_DOC)  # the locator only ever sees valid TOML
    index = _line_index(LOCATOR_DOC)
    expected = {
        ("title",): 1, ("a",): 2, ("a", "b"): 3, ("a", "quoted.key"): 4, ("a", "lit.key"): 5, ("a", "c"): 6,
        ("a", "c", "d"): 6, ("a", "s"): 7, ("a", "arr"): 11, ("a", "arr", 0): 12, ("a", "arr", 1): 13,
        ("a", "arr", 2): 14, ("a", "more"): 16, ("a", "more", 0): 17, ("t",): 19, ("t", 0): 19, ("t", 0, "g"): 20,
        ("t", 1): 21, ("t", 1, "sub"): 22, ("t", 1, "sub", "h"): 23,
    }
    assert {path: index.get(path) for path in expected} == expected
    assert ("a", "e") not in index  # inside the multi-line string
    assert ("z",) not in index and ("y",) not in index  # inside a comment and a string
    assert ("a", "arr", 3) not in index  # shares line 14 with element 2


def test_the_locator_falls_back_to_the_enclosing_table_then_to_none():
    assert _locate(LOCATOR_DOC, ("t", 1, "sub", "missing")) == 22
    assert _locate(LOCATOR_DOC, ("a", "arr", 1, 0)) == 13
    assert _locate(LOCATOR_DOC, ("a", "arr", 2, "f")) == 14
    assert _locate(LOCATOR_DOC, ("nowhere", "x")) is None


def test_the_locator_counts_only_newlines_as_line_ends():
    text = 'a = "x\u2028y\x85z"\n"k\\u0031" = 1\n'  # U+2028 and NEL end lines for str.splitlines(), not for TOML
    assert _line_index(text)[("k1",)] == 2


# --- the --account option and other command-line overrides ---------------------------------------------


def test_parse_account_option():
    assert parse_account_option("900002:s3cret:10690002") == Account("900002", "s3cret", ("10690002",))
    assert parse_account_option("sp9:pw:1069:12.5") == Account("sp9", "pw", ("1069",), rate=12.5)


@pytest.mark.parametrize(("text", "expected"), [
    ("900002", "expected ID:SECRET:SERVICE_CODE[:RATE] (3 or 4 fields), got 1"),
    ("a:b:1:2:3", "expected ID:SECRET:SERVICE_CODE[:RATE] (3 or 4 fields), got 5"),
    ("9000021:pw:1", 'id must be 1..6 letters or digits, got "9000021"'),
    ("900002::1", "secret must be 1..8 printable ASCII characters"),
    ("900002:pass word:1", "secret must be 1..8 printable ASCII characters"),
    ("900002:pw:10690a", 'service_code must be 1..20 digits, got "10690a"'),
    ("900002:pw:1:fast", 'rate must be a number > 0 and <= 1000000, got "fast"'),
    ("900002:pw:1:0", "rate must be a number > 0 and <= 1000000, got 0.0"),
])
def test_parse_account_option_mistakes(text, expected):
    with pytest.raises(ConfigError) as caught:
        parse_account_option(text)
    assert (caught.value.file, caught.value.line, caught.value.message) == ("--account", None, expected)


def test_with_overrides_replaces_what_is_given():
    config = load_config()
    assert with_overrides(config) == config
    accounts = [parse_account_option("900002:pw:10690002"), parse_account_option("900003:pw:10690003:5")]
    changed = with_overrides(config, accounts=accounts, cmpp_port=0, smpp_port=12775, api_port=18080,
                             data_dir=Path("/var/lib/smsclab"))
    assert changed == dataclasses.replace(
        config, accounts=tuple(accounts), data_dir=Path("/var/lib/smsclab"), api=Listener("127.0.0.1", 18080),
        cmpp=dataclasses.replace(config.cmpp, listener=Listener("127.0.0.1", 0)),
        smpp=dataclasses.replace(config.smpp, listener=Listener("127.0.0.1", 12775)),
    )


@pytest.mark.parametrize(("options", "expected"), [
    ({"cmpp_port": 70000}, "--cmpp-port: must be an integer 0..65535, got 70000"),
    ({"smpp_port": -1}, "--smpp-port: must be an integer 0..65535, got -1"),
    ({"api_port": 65536}, "--api-port: must be an integer 0..65535, got 65536"),
    ({"accounts": [Account("900002", "pw", ("1",)), Account("900002", "pw", ("2",))]},
     '--account: accounts[1].id "900002" is already used by accounts[0]'),
    ({"accounts": [Account("900002", "pw", ("1",), dlr_profile="fast")]},
     '--account: accounts[0].dlr_profile must be one of the dlr_profiles (default, mixed), got "fast"'),
])
def test_with_overrides_mistakes(options, expected):
    with pytest.raises(ConfigError) as caught:
        with_overrides(load_config(), **options)
    assert str(caught.value) == expected


# --- dump_config -------------------------------------------------------------------------------------------


def test_dump_hides_secrets_unless_asked(tmp_path):
    hidden = dump_config(load_config())
    assert 'secret = "***"' in hidden
    assert "888888" not in hidden
    shown = dump_config(load_config(), show_secrets=True)
    assert 'secret = "888888"' in shown
    assert load_config(write(tmp_path, shown)) == DEFAULT


def test_dump_writes_the_new_tables_and_account_keys(tmp_path):
    config = dataclasses.replace(
        DEFAULT,
        policy=dataclasses.replace(DEFAULT.policy, modes=MappingProxyType({"bulk": "enforce", "content": "off"}),
                                   content_file=SHIPPED_CONTENT, unsubscribe_words=("TD", "退 订")),
        audit=AuditConfig(3650),
        notices=NoticeConfig("106573", inband=True, fault_delay=0.25, webhook_retries=100, webhook_timeout=300.0),
        accounts=(dataclasses.replace(DEMO, approved_ads=True, policy=MappingProxyType({"advertising": "enforce"}),
                                      rent=1e9, free_quota=10**12, message_fee=1e-05, ad_penalty=1.0,
                                      webhook='https://sp.example.com/"quoted"'),),
    )
    text = dump_config(config, show_secrets=True)
    assert '\n[policy.modes]\nbulk = "enforce"\ncontent = "off"\n' in text
    assert f'content_file = "{SHIPPED_CONTENT}"' in text
    assert 'policy = { advertising = "enforce" }' in text
    assert "\n[audit]\nretention_days = 3650\n" in text
    assert load_config(write(tmp_path, text)) == config
    assert 'content_file = ""' in dump_config(DEFAULT) and "\npolicy = {}\n" in dump_config(DEFAULT)


def text_matching(pattern: str) -> st.SearchStrategy[str]:
    return st.from_regex(pattern, fullmatch=True)


stats = st.sampled_from(STATS.split(", ")) | text_matching(r"[A-Z]{2}:[0-9]{4}")
seconds = st.floats(min_value=0, max_value=86400, exclude_min=True)
mode_tables = st.dictionaries(st.sampled_from(POLICY_RULES), st.sampled_from(POLICY_MODES)).map(MappingProxyType)
outcomes = st.builds(Outcome, stats, st.floats(min_value=0, max_value=1e6, exclude_min=True), st.integers(0, 999))
accounts = st.builds(
    Account,
    id=text_matching(r"[A-Za-z0-9]{1,6}"),
    secret=text_matching(r"[!-~]{1,8}"),
    service_codes=st.lists(text_matching(r"[0-9]{1,20}"), min_size=1, max_size=3, unique=True).map(tuple),
    service_ids=st.lists(text_matching(r"[!-~]{1,10}"), max_size=2).map(tuple),
    rate=st.none() | st.floats(min_value=0, max_value=1e6, exclude_min=True),
    window=st.integers(1, 4096),
    max_connections=st.integers(1, 1024),
    allow_ips=st.lists(st.sampled_from(["0.0.0.0/0", "10.0.0.0/8", "192.168.7.0/24", "::1/128", "2001:db8::/32"]),
                       min_size=1, max_size=3, unique=True).map(tuple),
    dlr_profile=st.sampled_from(["default", "mixed", "custom"]),
    message_id_format=st.sampled_from(["hex", "decimal"]),
    approved_ads=st.booleans(),
    approved_fees=st.booleans(),
    policy=mode_tables,
    rent=st.floats(min_value=0, max_value=1e9),
    free_quota=st.integers(0, 10**12),
    message_fee=st.floats(min_value=0, max_value=1e6),
    ad_penalty=st.floats(min_value=1, max_value=100),
    webhook=st.sampled_from(["", "http://localhost:8000/hook", "https://sp.example.com/n?sp=1&k=%20", "http://[::1]/"]),
)
words = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=8).filter(lambda w: w == w.strip())
policies = st.builds(
    PolicyConfig,
    modes=mode_tables,
    number_ranges=st.lists(text_matching(r"[0-9]{1,11}"), min_size=1, max_size=4).map(tuple),
    max_recipients=st.integers(1, 100),
    bulk_recipients=st.integers(1, 1_000_000),
    bulk_window=seconds,
    unsubscribe_words=st.lists(words, min_size=1, max_size=3).map(tuple),
    suspend_after=st.integers(0, 1_000_000),
    suspend_window=st.floats(min_value=0, max_value=30 * 86400, exclude_min=True),
    content_file=st.sampled_from([None, SHIPPED_CONTENT]),
)
notices = st.builds(NoticeConfig, text_matching(r"[0-9]{1,21}"), st.booleans(), st.floats(min_value=0, max_value=86400),
                    st.integers(0, 100), st.floats(min_value=0, max_value=300, exclude_min=True))


@st.composite
def configs(draw: st.DrawFn) -> Config:
    base = load_config()
    chosen = draw(st.lists(accounts, min_size=1, max_size=3, unique_by=lambda account: account.id))
    codes = [code for account in chosen for code in account.service_codes]
    assume(len(codes) == len(set(codes)))
    low, high = sorted(draw(st.lists(st.floats(min_value=0, max_value=604800), min_size=2, max_size=2)))
    custom = DlrProfile("custom", low, high, tuple(draw(st.lists(outcomes, min_size=1, max_size=4))),
                        draw(seconds), draw(st.integers(1, 1000)))
    return dataclasses.replace(
        base,
        cmpp=dataclasses.replace(base.cmpp, versions=draw(st.sampled_from([(0x20,), (0x21, 0x30), (0x20, 0x21, 0x30)])),
                                 keepalive_interval=draw(seconds), gateway_code=draw(st.integers(0, 2**22 - 1))),
        smpp=dataclasses.replace(base.smpp, inactivity_timeout=draw(st.none() | seconds),
                                 system_id=draw(text_matching(r"[!-~]{1,15}")),
                                 listener=Listener(draw(st.sampled_from(["0.0.0.0", "::", "localhost"])),
                                                   draw(st.integers(0, 65535)))),
        data_dir=Path(draw(st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), min_size=1))),
        timezone=draw(st.sampled_from(["UTC", "Asia/Shanghai", "Europe/Berlin"])),
        mask_numbers=draw(st.booleans()),
        accounts=tuple(chosen),
        dlr_profiles=MappingProxyType({**base.dlr_profiles, "custom": custom}),
        policy=draw(policies),
        audit=AuditConfig(draw(st.integers(31, 3650))),
        notices=draw(notices),
    )


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    """One directory for all the examples of a property test: Hypothesis refuses function-scoped fixtures."""
    return tmp_path_factory.mktemp("examples")


@settings(max_examples=40, deadline=None)
@given(config=configs())
def test_dump_round_trips_with_secrets(scratch, config):
    path = write(scratch, dump_config(config, show_secrets=True))
    assert load_config(path) == config


# --- no traceback for any input --------------------------------------------------------------------------


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
        return repr(value)  # nan and inf are written as TOML writes them
    return value.isoformat()  # dates, times and date-times


DEFAULT_DOCUMENT = tomllib.loads(DEFAULT_CONFIG_TOML)
plain_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
# values near the valid ones reach the deeper checks; arbitrary ones probe the type checks
near_valid = st.sampled_from(["spec", "close", "2.0", "3.0", "hex", "900001", "10690001", "Asia/Shanghai",
                              "127.0.0.0/8", "default", "DELIVRD", "MK:0005", 0, 1, 7890, 1.5, True,
                              ["10690001"], [1, 3], [{"stat": "DELIVRD", "weight": 1}],
                              "enforce", "off", {"bulk": "monitor"}, {"spam": "off"}, "https://sp.example.com/n",
                              "http://[::1", str(SHIPPED_CONTENT), "", 31, 20, ["135"], ["TD"]])
dates = st.dates() | st.times() | st.datetimes()
scalars = near_valid | st.booleans() | st.integers() | st.floats() | plain_text | dates
values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(plain_text, inner, max_size=3), max_leaves=6
)


@st.composite
def tables(draw: st.DrawFn, model: dict) -> dict:
    """A table shaped like ``model``: mostly its keys, mostly with its (valid) values, now and then anything."""
    key = st.integers(0, 9).flatmap(lambda n: plain_text if n == 0 else st.sampled_from(sorted(model)))
    keys = draw(st.lists(key, max_size=len(model) + 1, unique=True))
    return {name: model[name] if name in model and draw(st.integers(0, 3)) else draw(values) for name in keys}


ACCOUNT_MODEL = {**DEFAULT_DOCUMENT["accounts"][0], "rate": 5, "approved_ads": True, "approved_fees": False,
                 "policy": {"advertising": "enforce"}, "rent": 2000, "free_quota": 100, "message_fee": 0.05,
                 "ad_penalty": 10, "webhook": "https://sp.example.com/n"}
SECTION_MODELS = {
    **{name: DEFAULT_DOCUMENT[name] for name in ("gateway", "cmpp", "smpp", "api", "audit", "notices")},
    "policy": {**DEFAULT_DOCUMENT["policy"], "modes": {"bulk": "enforce"}, "content_file": str(SHIPPED_CONTENT)},
}


def toml_document(extra: dict, sections: dict, accounts: list, profiles: dict) -> str:
    def pairs(table: dict) -> list[str]:
        return [f"{toml_string(key)} = {toml_value(value)}" for key, value in table.items()]

    lines = pairs(extra)
    for name, table in sections.items():
        lines += [f"[{name}]", *pairs(table)]
    for table in accounts:
        lines += ["[[accounts]]", *pairs(table)]
    for name, table in profiles.items():
        lines += [f"[dlr_profiles.{toml_string(name)}]", *pairs(table)]
    return "\n".join(lines) + "\n"


def assert_only_config_error(path: Path, text_lines: int) -> None:
    try:
        load_config(path)
    except ConfigError as error:
        assert str(error).isprintable()  # one line, nothing that a terminal would take for a line end
        assert str(error).startswith(f"{path}:")
        assert error.line is None or 1 <= error.line <= text_lines


@settings(max_examples=150, deadline=None)
@given(data=st.one_of(st.binary(), st.text().map(str.encode)))
def test_any_bytes_give_a_config_or_one_config_error(scratch, data):
    path = scratch / "any.toml"
    path.write_bytes(data)
    assert_only_config_error(path, data.count(b"\n") + 1)


@settings(max_examples=150, deadline=None)
@given(
    extra=st.integers(0, 9).flatmap(  # an unknown top-level key ends the check at once: keep it rare
        lambda n: st.dictionaries(plain_text.filter(lambda key: key not in DEFAULT_DOCUMENT), values, max_size=1)
        if n == 0 else st.just({})),
    sections=st.lists(st.sampled_from(sorted(SECTION_MODELS)), unique=True).flatmap(
        lambda names: st.fixed_dictionaries({name: tables(SECTION_MODELS[name]) for name in names})),
    accounts=st.lists(tables(ACCOUNT_MODEL), max_size=2),
    profiles=st.dictionaries(st.sampled_from(["default", "mixed", "x"]) | plain_text,
                             tables(DEFAULT_DOCUMENT["dlr_profiles"]["mixed"]), max_size=2),
)
def test_any_toml_document_gives_a_config_or_one_config_error(scratch, extra, sections, accounts, profiles):
    text = toml_document(extra, sections, accounts, profiles)
    tomllib.loads(text)  # the strategy makes valid TOML: the schema, not the parser, is under test
    path = write(scratch, text)
    assert_only_config_error(path, text.count("\n") + 1)
