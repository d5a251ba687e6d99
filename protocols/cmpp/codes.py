"""CMPP numbers as data: versions, command ids and the status/result tables of the SP link.

Every table keeps the spec's meaning in English and in the original Chinese, as ``(english, chinese)``,
so that logs, reports and the control API can show either. Sources: CMPP 2.0 §7.7 and CMPP 3.0 §8.7 (code
tables), CMPP 3.0 §8.4 (field descriptions), as collected in ``shared/reference/cmpp.md`` §1, §4 and §6.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum

__all__ = [
    "CONNECT_STATUS_TEXT",
    "DELIVER_RESULT_TEXT",
    "FEE_TYPE_TEXT",
    "FEE_TYPE_V20_ONLY",
    "MSG_FMT_TEXT",
    "STAT_PREFIX_TEXT",
    "STAT_TEXT",
    "SUBMIT_RESULT_SINCE_V21",
    "SUBMIT_RESULT_TEXT",
    "CancelResult",
    "CommandId",
    "ConnectStatus",
    "DeliverResult",
    "FeeType",
    "MsgFmt",
    "Stat",
    "SubmitResult",
    "Version",
    "describe_stat",
]


class Version(IntEnum):
    """The CONNECT ``Version`` byte: high nibble major, low nibble minor (CMPP 3.0 §8.4.1.1).

    0x20 and 0x21 share the 2.0 wire layout (2.1 only added SUBMIT_RESP codes 9-13); 0x30 is the 3.0 layout.
    """

    V20 = 0x20
    V21 = 0x21
    V30 = 0x30

    @property
    def is_v3(self) -> bool:
        """Whether this version uses the CMPP 3.0 wire layout."""
        return self >= Version.V30


class CommandId(IntEnum):
    """Command_Id values of the SP link (CMPP 2.0 §7.7.1, CMPP 3.0 §8.7.1).

    A response id is the request id with the top bit set. The ISMG<->ISMG and ISMG<->GNS commands (FWD,
    routing) are not listed: an SP-facing gateway neither sends nor accepts them.
    """

    CONNECT = 0x00000001
    CONNECT_RESP = 0x80000001
    TERMINATE = 0x00000002
    TERMINATE_RESP = 0x80000002
    SUBMIT = 0x00000004
    SUBMIT_RESP = 0x80000004
    DELIVER = 0x00000005
    DELIVER_RESP = 0x80000005
    QUERY = 0x00000006
    QUERY_RESP = 0x80000006
    CANCEL = 0x00000007
    CANCEL_RESP = 0x80000007
    ACTIVE_TEST = 0x00000008
    ACTIVE_TEST_RESP = 0x80000008

    @property
    def spec_name(self) -> str:
        """The name the spec uses, e.g. ``"CMPP_SUBMIT_RESP"``."""
        return f"CMPP_{self.name}"

    @property
    def is_response(self) -> bool:
        """Whether this is a ``*_RESP`` command (top bit set)."""
        return bool(self & 0x80000000)


class ConnectStatus(IntEnum):
    """CMPP_CONNECT_RESP ``Status`` (CMPP 2.0 §7.4.1.2, CMPP 3.0 §8.4.1.2): u1 in 2.0, u4 in 3.0."""

    OK = 0
    MESSAGE_STRUCTURE = 1
    ILLEGAL_SOURCE = 2
    AUTHENTICATION = 3
    VERSION_TOO_HIGH = 4
    OTHER = 5


CONNECT_STATUS_TEXT: dict[int, tuple[str, str]] = {
    ConnectStatus.OK: ("OK", "正确"),
    ConnectStatus.MESSAGE_STRUCTURE: ("message structure error", "消息结构错"),
    ConnectStatus.ILLEGAL_SOURCE: ("illegal source address", "非法源地址"),
    ConnectStatus.AUTHENTICATION: ("authentication error", "认证错"),
    ConnectStatus.VERSION_TOO_HIGH: ("version too high", "版本太高"),
    ConnectStatus.OTHER: ("other error", "其他错误"),
}


class SubmitResult(IntEnum):
    """CMPP_SUBMIT_RESP ``Result`` (CMPP 2.0 §7.4.3.2, CMPP 3.0 §8.4.3.2): u1 in 2.0, u4 in 3.0.

    Codes 9-13 exist since CMPP 2.1 (``SUBMIT_RESULT_SINCE_V21``); in 2.0, 9 and above meant "other error".
    0-99 are reserved for the protocol and 100-199 for vendors (CMPP 3.0 §8.7.2).
    """

    OK = 0
    MESSAGE_STRUCTURE = 1
    COMMAND_WORD = 2
    DUPLICATE_SEQUENCE = 3
    MESSAGE_LENGTH = 4
    FEE_CODE = 5
    TOO_LONG = 6
    SERVICE_ID = 7
    FLOW_CONTROL = 8
    FEE_TERMINAL_NOT_SERVED = 9
    SRC_ID = 10
    MSG_SRC = 11
    FEE_TERMINAL_ID = 12
    DEST_TERMINAL_ID = 13


SUBMIT_RESULT_TEXT: dict[int, tuple[str, str]] = {
    SubmitResult.OK: ("OK", "正确"),
    SubmitResult.MESSAGE_STRUCTURE: ("message structure error", "消息结构错"),
    SubmitResult.COMMAND_WORD: ("command word error", "命令字错"),
    SubmitResult.DUPLICATE_SEQUENCE: ("duplicate sequence number", "消息序号重复"),
    SubmitResult.MESSAGE_LENGTH: ("bad message length", "消息长度错"),
    SubmitResult.FEE_CODE: ("bad fee code", "资费代码错"),
    SubmitResult.TOO_LONG: ("exceeds the maximum message length", "超过最大信息长"),
    SubmitResult.SERVICE_ID: ("bad service code", "业务代码错"),
    SubmitResult.FLOW_CONTROL: ("flow-control error (throttled)", "流量控制错"),
    SubmitResult.FEE_TERMINAL_NOT_SERVED: (
        "this gateway does not serve the charged number",
        "本网关不负责服务此计费号码",
    ),
    SubmitResult.SRC_ID: ("bad Src_Id", "Src_Id 错误"),
    SubmitResult.MSG_SRC: ("bad Msg_src", "Msg_src 错误"),
    SubmitResult.FEE_TERMINAL_ID: ("bad Fee_terminal_Id", "Fee_terminal_Id 错误"),
    SubmitResult.DEST_TERMINAL_ID: ("bad Dest_terminal_Id", "Dest_terminal_Id 错误"),
}

# Added by the V2.1 revision (2003-05, "添加了 CMPP_SUBMIT_RESP 中的返回码的取值范围"); a 2.0 peer reads them
# as "9~ 其他错误" (other error).
SUBMIT_RESULT_SINCE_V21: frozenset[int] = frozenset(range(SubmitResult.FEE_TERMINAL_NOT_SERVED, 14))


class DeliverResult(IntEnum):
    """CMPP_DELIVER_RESP ``Result``, sent by the SP (CMPP 2.0 §7.4.5.2, CMPP 3.0 §8.4.5.2): u1 / u4.

    8 lets the SP throttle the ISMG; 9 and above are "other errors".
    """

    OK = 0
    MESSAGE_STRUCTURE = 1
    COMMAND_WORD = 2
    DUPLICATE_SEQUENCE = 3
    MESSAGE_LENGTH = 4
    FEE_CODE = 5
    TOO_LONG = 6
    SERVICE_ID = 7
    FLOW_CONTROL = 8
    OTHER = 9


DELIVER_RESULT_TEXT: dict[int, tuple[str, str]] = {
    DeliverResult.OK: ("OK", "正确"),
    DeliverResult.MESSAGE_STRUCTURE: ("message structure error", "消息结构错"),
    DeliverResult.COMMAND_WORD: ("command word error", "命令字错"),
    DeliverResult.DUPLICATE_SEQUENCE: ("duplicate sequence number", "消息序号重复"),
    DeliverResult.MESSAGE_LENGTH: ("bad message length", "消息长度错"),
    DeliverResult.FEE_CODE: ("bad fee code", "资费代码错"),
    DeliverResult.TOO_LONG: ("exceeds the maximum message length", "超过最大信息长"),
    DeliverResult.SERVICE_ID: ("bad service code", "业务代码错"),
    DeliverResult.FLOW_CONTROL: ("flow-control error (throttled)", "流量控制错"),
    DeliverResult.OTHER: ("other error", "其他错误"),
}


class CancelResult(IntEnum):
    """CMPP_CANCEL_RESP ``Success_Id`` (CMPP 3.0 §8.4.7.2): u1 in 2.0, u4 in 3.0."""

    SUCCESS = 0
    FAILURE = 1


class Stat(StrEnum):
    """Final states in a status report's ``Stat`` (CMPP 3.0 §8.4.5.1, table 一)."""

    DELIVRD = "DELIVRD"
    EXPIRED = "EXPIRED"
    DELETED = "DELETED"
    UNDELIV = "UNDELIV"
    ACCEPTD = "ACCEPTD"
    UNKNOWN = "UNKNOWN"
    REJECTD = "REJECTD"


STAT_TEXT: dict[str, tuple[str, str]] = {
    Stat.DELIVRD: ("delivered to the handset", "DELIVERED 成功送达"),
    Stat.EXPIRED: ("validity period expired", "EXPIRED 超过有效期"),
    Stat.DELETED: ("message deleted", "DELETED 已删除"),
    Stat.UNDELIV: ("undeliverable", "UNDELIVERABLE 未能送达"),
    # Intermediate: the ISMG must discard it rather than forward it to the SP (CMPP 3.0 §8.4.5.1).
    Stat.ACCEPTD: ("accepted (intermediate state)", "ACCEPTED 中间状态"),
    Stat.UNKNOWN: ("unknown state", "UNKNOWN 未知"),
    Stat.REJECTD: ("rejected", "REJECTED 被拒绝"),
}

# CMPP 3.0 adds element-specific 7-character codes "XX:nnnn"; the prefix says which element failed and nnnn is
# that element's own error code. Field traffic carries many others (cmpp.md §4.4), so Stat stays opaque text.
STAT_PREFIX_TEXT: dict[str, tuple[str, str]] = {
    "MA": ("SMSC did not respond", "SMSC 不返回响应消息"),
    "MB": ("SMSC returned an error response", "SMSC 返回错误响应消息"),
    "MC": ("no status report from the SMSC", "没有从 SMSC 处接收到状态报告"),
    "CA": ("SCP did not respond", "SCP 不返回响应消息"),
    "CB": ("SCP returned an error response", "SCP 返回错误响应消息"),
    "DA": ("DSMP did not respond", "DSMP 不返回响应消息"),
    "DB": ("DSMP returned an error response", "DSMP 返回错误响应消息"),
    "SA": ("SP did not respond", "SP 不返回响应消息"),
    "SB": ("SP returned an error response", "SP 返回错误响应消息"),
    "IA": ("next-hop ISMG did not respond", "下一级 ISMG 不返回响应消息"),
    "IB": ("next-hop ISMG returned an error response", "下一级 ISMG 返回错误响应消息"),
    "IC": ("no status report from the next-hop ISMG", "没有从下一级 ISMG 处接收到状态报告"),
}


def describe_stat(stat: str) -> tuple[str, str] | None:
    """Meaning of a report ``Stat``: a final state, else a 3.0 ``XX:nnnn`` prefix, else ``None``."""
    if stat in STAT_TEXT:
        return STAT_TEXT[stat]
    prefix, colon, _ = stat.partition(":")
    return STAT_PREFIX_TEXT.get(prefix) if colon else None


class MsgFmt(IntEnum):
    """``Msg_Fmt`` values named by the spec (CMPP 3.0 §8.4.3.1). Others are legal and kept as given."""

    ASCII = 0
    SIM_WRITE = 3
    BINARY = 4
    UCS2 = 8
    GB = 15


MSG_FMT_TEXT: dict[int, tuple[str, str]] = {
    MsgFmt.ASCII: ("ASCII", "ASCII 串"),
    MsgFmt.SIM_WRITE: ("SIM card write", "短信写卡操作"),
    MsgFmt.BINARY: ("binary", "二进制信息"),
    MsgFmt.UCS2: ("UCS2 (UTF-16BE)", "UCS2 编码"),
    MsgFmt.GB: ("GB Chinese characters", "含 GB 汉字"),
}


class FeeType(StrEnum):
    """SUBMIT ``FeeType`` (CMPP 2.0 §7.4.3.1, CMPP 3.0 §8.4.3.1): a 2-character octet string."""

    FREE = "01"
    PER_MESSAGE = "02"
    MONTHLY = "03"
    CAPPED = "04"
    SP_CHARGED = "05"


FEE_TYPE_TEXT: dict[str, tuple[str, str]] = {
    FeeType.FREE: ("free of charge", "对“计费用户号码”免费"),
    FeeType.PER_MESSAGE: ("charged per message", "对“计费用户号码”按条计信息费"),
    FeeType.MONTHLY: ("monthly subscription", "对“计费用户号码”按包月收取信息费"),
    FeeType.CAPPED: ("capped", "对“计费用户号码”的信息费封顶"),
    FeeType.SP_CHARGED: ("charged by the SP", "对“计费用户号码”的收费是由 SP 实现"),
}

# 04 and 05 exist only in CMPP 2.0; the 3.0 revision removed them.
FEE_TYPE_V20_ONLY: frozenset[str] = frozenset({FeeType.CAPPED, FeeType.SP_CHARGED})
