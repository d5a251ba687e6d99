"""SMPP numeric vocabularies: command ids, command_status codes, message states and flag bits.

Everything here is data from the specification tables (SMPP v3.4 §5.1.2.1 Table 5-1, §5.1.3 Table 5-2,
§5.2.12, §5.2.17, §5.2.19, §5.2.28) plus the SMPP 5.0 additions (broadcast operations, status codes
0x100-0x112, message states SCHEDULED and SKIPPED). Member names are the spec's own, so that
``CommandStatus.ESME_RTHROTTLED`` reads exactly like the documents and the partner's logs.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Final

__all__ = [
    "STATUS_TEXT",
    "CommandId",
    "CommandStatus",
    "DataCoding",
    "EsmClass",
    "InterfaceVersion",
    "MessageState",
    "RegisteredDelivery",
]


class CommandId(IntEnum):
    """command_id values (SMPP v3.4 §5.1.2.1 Table 5-1; 5.0 adds the broadcast operations).

    A response id is its request id with bit 31 set.
    """

    GENERIC_NACK = 0x80000000
    BIND_RECEIVER = 0x00000001
    BIND_RECEIVER_RESP = 0x80000001
    BIND_TRANSMITTER = 0x00000002
    BIND_TRANSMITTER_RESP = 0x80000002
    QUERY_SM = 0x00000003
    QUERY_SM_RESP = 0x80000003
    SUBMIT_SM = 0x00000004
    SUBMIT_SM_RESP = 0x80000004
    DELIVER_SM = 0x00000005
    DELIVER_SM_RESP = 0x80000005
    UNBIND = 0x00000006
    UNBIND_RESP = 0x80000006
    REPLACE_SM = 0x00000007
    REPLACE_SM_RESP = 0x80000007
    CANCEL_SM = 0x00000008
    CANCEL_SM_RESP = 0x80000008
    BIND_TRANSCEIVER = 0x00000009
    BIND_TRANSCEIVER_RESP = 0x80000009
    OUTBIND = 0x0000000B
    ENQUIRE_LINK = 0x00000015
    ENQUIRE_LINK_RESP = 0x80000015
    SUBMIT_MULTI = 0x00000021
    SUBMIT_MULTI_RESP = 0x80000021
    ALERT_NOTIFICATION = 0x00000102
    DATA_SM = 0x00000103
    DATA_SM_RESP = 0x80000103
    BROADCAST_SM = 0x00000111
    BROADCAST_SM_RESP = 0x80000111
    QUERY_BROADCAST_SM = 0x00000112
    QUERY_BROADCAST_SM_RESP = 0x80000112
    CANCEL_BROADCAST_SM = 0x00000113
    CANCEL_BROADCAST_SM_RESP = 0x80000113


class CommandStatus(IntEnum):
    """command_status / error_status_code values (SMPP v3.4 §5.1.3 Table 5-2; SMPP 5.0 0x100-0x112).

    3.4 reserves 0x400-0x4FF for SMSC vendor errors; those are valid on the wire but have no member.
    """

    ESME_ROK = 0x00000000
    ESME_RINVMSGLEN = 0x00000001
    ESME_RINVCMDLEN = 0x00000002
    ESME_RINVCMDID = 0x00000003
    ESME_RINVBNDSTS = 0x00000004
    ESME_RALYBND = 0x00000005
    ESME_RINVPRTFLG = 0x00000006
    ESME_RINVREGDLVFLG = 0x00000007
    ESME_RSYSERR = 0x00000008
    ESME_RINVSRCADR = 0x0000000A
    ESME_RINVDSTADR = 0x0000000B
    ESME_RINVMSGID = 0x0000000C
    ESME_RBINDFAIL = 0x0000000D
    ESME_RINVPASWD = 0x0000000E
    ESME_RINVSYSID = 0x0000000F
    ESME_RCANCELFAIL = 0x00000011
    ESME_RREPLACEFAIL = 0x00000013
    ESME_RMSGQFUL = 0x00000014
    ESME_RINVSERTYP = 0x00000015
    ESME_RINVNUMDESTS = 0x00000033
    ESME_RINVDLNAME = 0x00000034
    ESME_RINVDESTFLAG = 0x00000040
    ESME_RINVSUBREP = 0x00000042
    ESME_RINVESMCLASS = 0x00000043
    ESME_RCNTSUBDL = 0x00000044
    ESME_RSUBMITFAIL = 0x00000045
    ESME_RINVSRCTON = 0x00000048
    ESME_RINVSRCNPI = 0x00000049
    ESME_RINVDSTTON = 0x00000050
    ESME_RINVDSTNPI = 0x00000051
    ESME_RINVSYSTYP = 0x00000053
    ESME_RINVREPFLAG = 0x00000054
    ESME_RINVNUMMSGS = 0x00000055
    ESME_RTHROTTLED = 0x00000058
    ESME_RINVSCHED = 0x00000061
    ESME_RINVEXPIRY = 0x00000062
    ESME_RINVDFTMSGID = 0x00000063
    ESME_RX_T_APPN = 0x00000064
    ESME_RX_P_APPN = 0x00000065
    ESME_RX_R_APPN = 0x00000066
    ESME_RQUERYFAIL = 0x00000067
    ESME_RINVOPTPARSTREAM = 0x000000C0
    ESME_ROPTPARNOTALLWD = 0x000000C1
    ESME_RINVPARLEN = 0x000000C2
    ESME_RMISSINGOPTPARAM = 0x000000C3
    ESME_RINVOPTPARAMVAL = 0x000000C4
    ESME_RDELIVERYFAILURE = 0x000000FE
    ESME_RUNKNOWNERR = 0x000000FF
    # SMPP 5.0 additions.
    ESME_RSERTYPUNAUTH = 0x00000100
    ESME_RPROHIBITED = 0x00000101
    ESME_RSERTYPUNAVAIL = 0x00000102
    ESME_RSERTYPDENIED = 0x00000103
    ESME_RINVDCS = 0x00000104
    ESME_RINVSRCADDRSUBUNIT = 0x00000105
    ESME_RINVDSTADDRSUBUNIT = 0x00000106
    ESME_RINVBCASTFREQINT = 0x00000107
    ESME_RINVBCASTALIAS_NAME = 0x00000108
    ESME_RINVBCASTAREAFMT = 0x00000109
    ESME_RINVNUMBCAST_AREAS = 0x0000010A
    ESME_RINVBCASTCNTTYPE = 0x0000010B
    ESME_RINVBCASTMSGCLASS = 0x0000010C
    ESME_RBCASTFAIL = 0x0000010D
    ESME_RBCASTQUERYFAIL = 0x0000010E
    ESME_RBCASTCANCELFAIL = 0x0000010F
    ESME_RINVBCAST_REP = 0x00000110
    ESME_RINVBCASTSRVGRP = 0x00000111
    ESME_RINVBCASTCHANIND = 0x00000112


#: Description of every :class:`CommandStatus` (SMPP v3.4 Table 5-2 wording, 5.0 for 0x100-0x112).
STATUS_TEXT: Final[dict[int, str]] = {
    CommandStatus.ESME_ROK: "No error",
    CommandStatus.ESME_RINVMSGLEN: "Message length is invalid",
    CommandStatus.ESME_RINVCMDLEN: "Command length is invalid",
    CommandStatus.ESME_RINVCMDID: "Invalid command ID",
    CommandStatus.ESME_RINVBNDSTS: "Incorrect BIND status for given command",
    CommandStatus.ESME_RALYBND: "ESME already in bound state",
    CommandStatus.ESME_RINVPRTFLG: "Invalid priority flag",
    CommandStatus.ESME_RINVREGDLVFLG: "Invalid registered delivery flag",
    CommandStatus.ESME_RSYSERR: "System error",
    CommandStatus.ESME_RINVSRCADR: "Invalid source address",
    CommandStatus.ESME_RINVDSTADR: "Invalid destination address",
    CommandStatus.ESME_RINVMSGID: "Message ID is invalid",
    CommandStatus.ESME_RBINDFAIL: "Bind failed",
    CommandStatus.ESME_RINVPASWD: "Invalid password",
    CommandStatus.ESME_RINVSYSID: "Invalid system ID",
    CommandStatus.ESME_RCANCELFAIL: "cancel_sm failed",
    CommandStatus.ESME_RREPLACEFAIL: "replace_sm failed",
    CommandStatus.ESME_RMSGQFUL: "Message queue full",
    CommandStatus.ESME_RINVSERTYP: "Invalid service type",
    CommandStatus.ESME_RINVNUMDESTS: "Invalid number of destinations",
    CommandStatus.ESME_RINVDLNAME: "Invalid distribution list name",
    CommandStatus.ESME_RINVDESTFLAG: "Destination flag is invalid (submit_multi)",
    CommandStatus.ESME_RINVSUBREP: "Invalid submit with replace request",
    CommandStatus.ESME_RINVESMCLASS: "Invalid esm_class field data",
    CommandStatus.ESME_RCNTSUBDL: "Cannot submit to distribution list",
    CommandStatus.ESME_RSUBMITFAIL: "submit_sm or submit_multi failed",
    CommandStatus.ESME_RINVSRCTON: "Invalid source address TON",
    CommandStatus.ESME_RINVSRCNPI: "Invalid source address NPI",
    CommandStatus.ESME_RINVDSTTON: "Invalid destination address TON",
    CommandStatus.ESME_RINVDSTNPI: "Invalid destination address NPI",
    CommandStatus.ESME_RINVSYSTYP: "Invalid system_type field",
    CommandStatus.ESME_RINVREPFLAG: "Invalid replace_if_present flag",
    CommandStatus.ESME_RINVNUMMSGS: "Invalid number of messages",
    CommandStatus.ESME_RTHROTTLED: "Throttling error (ESME has exceeded allowed message limits)",
    CommandStatus.ESME_RINVSCHED: "Invalid scheduled delivery time",
    CommandStatus.ESME_RINVEXPIRY: "Invalid message validity period (expiry time)",
    CommandStatus.ESME_RINVDFTMSGID: "Predefined message invalid or not found",
    CommandStatus.ESME_RX_T_APPN: "ESME receiver temporary app error code",
    CommandStatus.ESME_RX_P_APPN: "ESME receiver permanent app error code",
    CommandStatus.ESME_RX_R_APPN: "ESME receiver reject message error code",
    CommandStatus.ESME_RQUERYFAIL: "query_sm request failed",
    CommandStatus.ESME_RINVOPTPARSTREAM: "Error in the optional part of the PDU body",
    CommandStatus.ESME_ROPTPARNOTALLWD: "Optional parameter not allowed",
    CommandStatus.ESME_RINVPARLEN: "Invalid parameter length",
    CommandStatus.ESME_RMISSINGOPTPARAM: "Expected optional parameter missing",
    CommandStatus.ESME_RINVOPTPARAMVAL: "Invalid optional parameter value",
    CommandStatus.ESME_RDELIVERYFAILURE: "Delivery failure (used for data_sm_resp)",
    CommandStatus.ESME_RUNKNOWNERR: "Unknown error",
    CommandStatus.ESME_RSERTYPUNAUTH: "ESME not authorised to use specified service_type",
    CommandStatus.ESME_RPROHIBITED: "ESME prohibited from using specified operation",
    CommandStatus.ESME_RSERTYPUNAVAIL: "Specified service_type is unavailable",
    CommandStatus.ESME_RSERTYPDENIED: "Specified service_type is denied",
    CommandStatus.ESME_RINVDCS: "Invalid data coding scheme",
    CommandStatus.ESME_RINVSRCADDRSUBUNIT: "Source address sub unit is invalid",
    CommandStatus.ESME_RINVDSTADDRSUBUNIT: "Destination address sub unit is invalid",
    CommandStatus.ESME_RINVBCASTFREQINT: "Broadcast frequency interval is invalid",
    CommandStatus.ESME_RINVBCASTALIAS_NAME: "Broadcast alias name is invalid",
    CommandStatus.ESME_RINVBCASTAREAFMT: "Broadcast area format is invalid",
    CommandStatus.ESME_RINVNUMBCAST_AREAS: "Number of broadcast areas is invalid",
    CommandStatus.ESME_RINVBCASTCNTTYPE: "Broadcast content type is invalid",
    CommandStatus.ESME_RINVBCASTMSGCLASS: "Broadcast message class is invalid",
    CommandStatus.ESME_RBCASTFAIL: "broadcast_sm operation failed",
    CommandStatus.ESME_RBCASTQUERYFAIL: "query_broadcast_sm operation failed",
    CommandStatus.ESME_RBCASTCANCELFAIL: "cancel_broadcast_sm operation failed",
    CommandStatus.ESME_RINVBCAST_REP: "Number of repeated broadcasts is invalid",
    CommandStatus.ESME_RINVBCASTSRVGRP: "Broadcast service group is invalid",
    CommandStatus.ESME_RINVBCASTCHANIND: "Broadcast channel indicator is invalid",
}


class MessageState(IntEnum):
    """message_state values (SMPP v3.4 §5.2.28; SMPP 5.0 adds SCHEDULED 0 and SKIPPED 9)."""

    SCHEDULED = 0
    ENROUTE = 1
    DELIVERED = 2
    EXPIRED = 3
    DELETED = 4
    UNDELIVERABLE = 5
    ACCEPTED = 6
    UNKNOWN = 7
    REJECTED = 8
    SKIPPED = 9


class DataCoding(IntEnum):
    """data_coding values with a fixed meaning (SMPP v3.4 §5.2.19).

    0xC0-0xDF (message waiting indication) and 0xF0-0xFF (GSM message class) are bit-coded groups and
    are not listed. The "default alphabet" (0) is SMSC-specific; GSM 03.38 in most SMPP links.
    """

    SMSC_DEFAULT = 0x00
    IA5 = 0x01
    OCTET_UNSPECIFIED = 0x02
    LATIN_1 = 0x03
    BINARY = 0x04
    JIS = 0x05
    CYRILLIC = 0x06
    LATIN_HEBREW = 0x07
    UCS2 = 0x08
    PICTOGRAM = 0x09
    ISO_2022_JP = 0x0A
    EXTENDED_KANJI_JIS = 0x0D
    KS_C_5601 = 0x0E


class InterfaceVersion(IntEnum):
    """interface_version / sc_interface_version values (SMPP v3.4 §5.2.4; 0x50 for SMPP 5.0).

    Values 0x00-0x33 all mean "3.3 or earlier": such a peer must not be sent TLVs (SMPP v3.4 §3.3).
    """

    SMPP_3_3 = 0x33
    SMPP_3_4 = 0x34
    SMPP_5_0 = 0x50


class EsmClass:
    """esm_class bit fields (SMPP v3.4 §5.2.12): message mode (bits 1-0), type (bits 5-2), features.

    The field packs three sub-fields, so these are plain masks and values rather than one flag enum.
    """

    MODE_MASK: Final = 0x03
    MODE_DEFAULT: Final = 0x00
    MODE_DATAGRAM: Final = 0x01
    MODE_FORWARD: Final = 0x02
    MODE_STORE_AND_FORWARD: Final = 0x03

    TYPE_MASK: Final = 0x3C
    TYPE_DEFAULT: Final = 0x00
    TYPE_DELIVERY_RECEIPT: Final = 0x04
    TYPE_DELIVERY_ACK: Final = 0x08
    TYPE_MANUAL_USER_ACK: Final = 0x10
    TYPE_CONVERSATION_ABORT: Final = 0x18
    TYPE_INTERMEDIATE_NOTIFICATION: Final = 0x20

    UDHI: Final = 0x40
    REPLY_PATH: Final = 0x80


class RegisteredDelivery:
    """registered_delivery bit fields (SMPP v3.4 §5.2.17).

    ``RECEIPT_ON_SUCCESS`` (0x03) is reserved in 3.4 and means "success only" in 5.0. The intermediate
    notification flag is the value 0x10 (the 3.4 table caption says "bit 5"; the bit pattern is 0x10).
    """

    RECEIPT_MASK: Final = 0x03
    NO_RECEIPT: Final = 0x00
    RECEIPT_ON_SUCCESS_OR_FAILURE: Final = 0x01
    RECEIPT_ON_FAILURE: Final = 0x02
    RECEIPT_ON_SUCCESS: Final = 0x03

    SME_ACK_MASK: Final = 0x0C
    SME_DELIVERY_ACK: Final = 0x04
    SME_MANUAL_ACK: Final = 0x08
    SME_DELIVERY_AND_MANUAL_ACK: Final = 0x0C

    INTERMEDIATE_NOTIFICATION: Final = 0x10
