"""Typed, frozen SMPP PDUs: every operation of SMPP v3.4 §4 plus the SMPP 5.0 broadcast operations.

Field names are the spec's, verbatim. Header fields other than ``command_status`` and
``sequence_number`` are implied: ``command_id`` is a class constant and ``command_length`` is computed
by the codec. Counts and lengths the wire carries next to their data (``sm_length``,
``number_of_dests``, ``no_unsuccess``) are derived from the data and are not fields, so they can never
disagree with it.

Value conventions: C-Octet Strings are ``str`` (latin-1, so any octet string survives; the NUL is the
codec's business), the 1-or-17 octet time fields are ``str`` that are empty or 16 characters,
``short_message`` is ``bytes``, Integers are ``int``. Every PDU with a mandatory body, and every
response, carries ``tlvs`` in wire order: SMPP v3.4 §3.3 lets a receiver ignore an unexpected TLV,
and SMPP 5.0 allows ``congestion_state`` in any response. Every field has a default, so PDUs are built
by keyword. A request builds its response with ``response()``, which copies ``sequence_number``.

Do not subclass these: the codec finds the wire layout by exact class.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .codes import CommandId, InterfaceVersion
from .tlv import Tlv

__all__ = [
    "AlertNotification",
    "BindReceiver",
    "BindReceiverResp",
    "BindTransceiver",
    "BindTransceiverResp",
    "BindTransmitter",
    "BindTransmitterResp",
    "BroadcastSm",
    "BroadcastSmResp",
    "CancelBroadcastSm",
    "CancelBroadcastSmResp",
    "CancelSm",
    "CancelSmResp",
    "DataSm",
    "DataSmResp",
    "DeliverSm",
    "DeliverSmResp",
    "DestAddress",
    "EnquireLink",
    "EnquireLinkResp",
    "GenericNack",
    "Outbind",
    "QueryBroadcastSm",
    "QueryBroadcastSmResp",
    "QuerySm",
    "QuerySmResp",
    "ReplaceSm",
    "ReplaceSmResp",
    "SmppPdu",
    "SubmitMulti",
    "SubmitMultiResp",
    "SubmitSm",
    "SubmitSmResp",
    "Unbind",
    "UnbindResp",
    "UnsuccessSme",
    "generic_nack",
]


@dataclass(frozen=True, kw_only=True, slots=True)
class SmppPdu:
    """Base of every PDU: the two header fields that vary per PDU (SMPP v3.4 §3.2 / §5.1)."""

    command_id: ClassVar[int]
    command_name: ClassVar[str]

    command_status: int = 0
    """Zero in requests; the outcome in responses (§5.1.3)."""
    sequence_number: int = 0
    """Correlates a response with its request (§5.1.4; 0x00000001-0x7FFFFFFF when generated)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class DestAddress:
    """One submit_multi destination (SMPP v3.4 §4.5.1.1): an SME address or a distribution list.

    ``dest_flag`` 1 uses ``dest_addr_ton``, ``dest_addr_npi`` and ``destination_addr``; ``dest_flag`` 2
    uses ``dl_name``. The fields of the other variant stay at their defaults.
    """

    SME_ADDRESS: ClassVar[int] = 1
    DISTRIBUTION_LIST: ClassVar[int] = 2

    dest_flag: int = SME_ADDRESS
    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: str = ""
    dl_name: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class UnsuccessSme:
    """One failed destination of a submit_multi_resp (SMPP v3.4 §4.5.2.1)."""

    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: str = ""
    error_status_code: int = 0


# -- session management (SMPP v3.4 §4.1-§4.3, §4.11) --------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class BindTransmitterResp(SmppPdu):
    """bind_transmitter_resp (SMPP v3.4 §4.1.2); ``sc_interface_version`` travels as a TLV."""

    command_id: ClassVar[int] = CommandId.BIND_TRANSMITTER_RESP
    command_name: ClassVar[str] = "bind_transmitter_resp"

    system_id: str = ""
    tlvs: tuple[Tlv, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class BindTransmitter(SmppPdu):
    """bind_transmitter (SMPP v3.4 §4.1.1)."""

    command_id: ClassVar[int] = CommandId.BIND_TRANSMITTER
    command_name: ClassVar[str] = "bind_transmitter"

    system_id: str = ""
    password: str = ""
    system_type: str = ""
    interface_version: int = InterfaceVersion.SMPP_3_4
    addr_ton: int = 0
    addr_npi: int = 0
    address_range: str = ""
    tlvs: tuple[Tlv, ...] = ()

    def response(
        self, *, system_id: str = "", command_status: int = 0, tlvs: tuple[Tlv, ...] = ()
    ) -> BindTransmitterResp:
        """The matching bind_transmitter_resp (§4.1.2)."""
        return BindTransmitterResp(
            sequence_number=self.sequence_number,
            command_status=command_status,
            system_id=system_id,
            tlvs=tlvs,
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class BindReceiverResp(SmppPdu):
    """bind_receiver_resp (SMPP v3.4 §4.1.4)."""

    command_id: ClassVar[int] = CommandId.BIND_RECEIVER_RESP
    command_name: ClassVar[str] = "bind_receiver_resp"

    system_id: str = ""
    tlvs: tuple[Tlv, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class BindReceiver(SmppPdu):
    """bind_receiver (SMPP v3.4 §4.1.3)."""

    command_id: ClassVar[int] = CommandId.BIND_RECEIVER
    command_name: ClassVar[str] = "bind_receiver"

    system_id: str = ""
    password: str = ""
    system_type: str = ""
    interface_version: int = InterfaceVersion.SMPP_3_4
    addr_ton: int = 0
    addr_npi: int = 0
    address_range: str = ""
    tlvs: tuple[Tlv, ...] = ()

    def response(
        self, *, system_id: str = "", command_status: int = 0, tlvs: tuple[Tlv, ...] = ()
    ) -> BindReceiverResp:
        """The matching bind_receiver_resp (§4.1.4)."""
        return BindReceiverResp(
            sequence_number=self.sequence_number,
            command_status=command_status,
            system_id=system_id,
            tlvs=tlvs,
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class BindTransceiverResp(SmppPdu):
    """bind_transceiver_resp (SMPP v3.4 §4.1.6)."""

    command_id: ClassVar[int] = CommandId.BIND_TRANSCEIVER_RESP
    command_name: ClassVar[str] = "bind_transceiver_resp"

    system_id: str = ""
    tlvs: tuple[Tlv, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class BindTransceiver(SmppPdu):
    """bind_transceiver (SMPP v3.4 §4.1.5)."""

    command_id: ClassVar[int] = CommandId.BIND_TRANSCEIVER
    command_name: ClassVar[str] = "bind_transceiver"

    system_id: str = ""
    password: str = ""
    system_type: str = ""
    interface_version: int = InterfaceVersion.SMPP_3_4
    addr_ton: int = 0
    addr_npi: int = 0
    address_range: str = ""
    tlvs: tuple[Tlv, ...] = ()

    def response(
        self, *, system_id: str = "", command_status: int = 0, tlvs: tuple[Tlv, ...] = ()
    ) -> BindTransceiverResp:
        """The matching bind_transceiver_resp (§4.1.6)."""
        return BindTransceiverResp(
            sequence_number=self.sequence_number,
            command_status=command_status,
            system_id=system_id,
            tlvs=tlvs,
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class Outbind(SmppPdu):
    """outbind (SMPP v3.4 §4.1.7): the SMSC asks the ESME to bind_receiver; it has no response."""

    command_id: ClassVar[int] = CommandId.OUTBIND
    command_name: ClassVar[str] = "outbind"

    system_id: str = ""
    password: str = ""
    tlvs: tuple[Tlv, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class UnbindResp(SmppPdu):
    """unbind_resp (SMPP v3.4 §4.2.2)."""

    command_id: ClassVar[int] = CommandId.UNBIND_RESP
    command_name: ClassVar[str] = "unbind_resp"

    tlvs: tuple[Tlv, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class Unbind(SmppPdu):
    """unbind (SMPP v3.4 §4.2.1): header only."""

    command_id: ClassVar[int] = CommandId.UNBIND
    command_name: ClassVar[str] = "unbind"

    def response(self, *, command_status: int = 0, tlvs: tuple[Tlv, ...] = ()) -> UnbindResp:
        """The matching unbind_resp (§4.2.2)."""
        return UnbindResp(sequence_number=self.sequence_number, command_status=command_status, tlvs=tlvs)


@dataclass(frozen=True, kw_only=True, slots=True)
class GenericNack(SmppPdu):
    """generic_nack (SMPP v3.4 §4.3): header only; answers a PDU whose header could not be used."""

    command_id: ClassVar[int] = CommandId.GENERIC_NACK
    command_name: ClassVar[str] = "generic_nack"


def generic_nack(sequence_number: int, command_status: int) -> GenericNack:
    """A generic_nack (SMPP v3.4 §4.3) for ``sequence_number`` (0 when it could not be read)."""
    return GenericNack(sequence_number=sequence_number, command_status=command_status)


@dataclass(frozen=True, kw_only=True, slots=True)
class EnquireLinkResp(SmppPdu):
    """enquire_link_resp (SMPP v3.4 §4.11.2)."""

    command_id: ClassVar[int] = CommandId.ENQUIRE_LINK_RESP
    command_name: ClassVar[str] = "enquire_link_resp"

    tlvs: tuple[Tlv, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class EnquireLink(SmppPdu):
    """enquire_link (SMPP v3.4 §4.11.1): header only."""

    command_id: ClassVar[int] = CommandId.ENQUIRE_LINK
    command_name: ClassVar[str] = "enquire_link"

    def response(self, *, command_status: int = 0, tlvs: tuple[Tlv, ...] = ()) -> EnquireLinkResp:
        """The matching enquire_link_resp (§4.11.2)."""
        return EnquireLinkResp(sequence_number=self.sequence_number, command_status=command_status, tlvs=tlvs)


@dataclass(frozen=True, kw_only=True, slots=True)
class AlertNotification(SmppPdu):
    """alert_notification (SMPP v3.4 §4.12.1): the SMSC reports an MS available; it has no response."""

    command_id: ClassVar[int] = CommandId.ALERT_NOTIFICATION
    command_name: ClassVar[str] = "alert_notification"

    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    esme_addr_ton: int = 0
    esme_addr_npi: int = 0
    esme_addr: str = ""
    tlvs: tuple[Tlv, ...] = ()


# -- message submission and delivery (SMPP v3.4 §4.4-§4.7) --------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class SubmitSmResp(SmppPdu):
    """submit_sm_resp (SMPP v3.4 §4.4.2): no body is sent when command_status is not 0."""

    command_id: ClassVar[int] = CommandId.SUBMIT_SM_RESP
    command_name: ClassVar[str] = "submit_sm_resp"

    message_id: str = ""
    tlvs: tuple[Tlv, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class SubmitSm(SmppPdu):
    """submit_sm (SMPP v3.4 §4.4.1).

    ``short_message`` holds at most 254 octets; longer content goes in a ``message_payload`` TLV with
    an empty ``short_message``, never both (§4.4.1, §5.3.2.32).
    """

    command_id: ClassVar[int] = CommandId.SUBMIT_SM
    command_name: ClassVar[str] = "submit_sm"

    service_type: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: str = ""
    esm_class: int = 0
    protocol_id: int = 0
    priority_flag: int = 0
    schedule_delivery_time: str = ""
    validity_period: str = ""
    registered_delivery: int = 0
    replace_if_present_flag: int = 0
    data_coding: int = 0
    sm_default_msg_id: int = 0
    short_message: bytes = b""
    tlvs: tuple[Tlv, ...] = ()

    def response(
        self, *, message_id: str = "", command_status: int = 0, tlvs: tuple[Tlv, ...] = ()
    ) -> SubmitSmResp:
        """The matching submit_sm_resp (§4.4.2)."""
        return SubmitSmResp(
            sequence_number=self.sequence_number,
            command_status=command_status,
            message_id=message_id,
            tlvs=tlvs,
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class SubmitMultiResp(SmppPdu):
    """submit_multi_resp (SMPP v3.4 §4.5.2); ``no_unsuccess`` is ``len(unsuccess_sme)``."""

    command_id: ClassVar[int] = CommandId.SUBMIT_MULTI_RESP
    command_name: ClassVar[str] = "submit_multi_resp"

    message_id: str = ""
    unsuccess_sme: tuple[UnsuccessSme, ...] = ()
    tlvs: tuple[Tlv, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class SubmitMulti(SmppPdu):
    """submit_multi (SMPP v3.4 §4.5.1); ``number_of_dests`` is ``len(dest_address)`` (at most 254)."""

    command_id: ClassVar[int] = CommandId.SUBMIT_MULTI
    command_name: ClassVar[str] = "submit_multi"

    service_type: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    dest_address: tuple[DestAddress, ...] = ()
    esm_class: int = 0
    protocol_id: int = 0
    priority_flag: int = 0
    schedule_delivery_time: str = ""
    validity_period: str = ""
    registered_delivery: int = 0
    replace_if_present_flag: int = 0
    data_coding: int = 0
    sm_default_msg_id: int = 0
    short_message: bytes = b""
    tlvs: tuple[Tlv, ...] = ()

    def response(
        self,
        *,
        message_id: str = "",
        unsuccess_sme: tuple[UnsuccessSme, ...] = (),
        command_status: int = 0,
        tlvs: tuple[Tlv, ...] = (),
    ) -> SubmitMultiResp:
        """The matching submit_multi_resp (§4.5.2)."""
        return SubmitMultiResp(
            sequence_number=self.sequence_number,
            command_status=command_status,
            message_id=message_id,
            unsuccess_sme=unsuccess_sme,
            tlvs=tlvs,
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class DeliverSmResp(SmppPdu):
    """deliver_sm_resp (SMPP v3.4 §4.6.2); ``message_id`` is unused and normally empty."""

    command_id: ClassVar[int] = CommandId.DELIVER_SM_RESP
    command_name: ClassVar[str] = "deliver_sm_resp"

    message_id: str = ""
    tlvs: tuple[Tlv, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class DeliverSm(SmppPdu):
    """deliver_sm (SMPP v3.4 §4.6.1): MO messages and delivery receipts (esm_class 0x04)."""

    command_id: ClassVar[int] = CommandId.DELIVER_SM
    command_name: ClassVar[str] = "deliver_sm"

    service_type: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: str = ""
    esm_class: int = 0
    protocol_id: int = 0
    priority_flag: int = 0
    schedule_delivery_time: str = ""
    validity_period: str = ""
    registered_delivery: int = 0
    replace_if_present_flag: int = 0
    data_coding: int = 0
    sm_default_msg_id: int = 0
    short_message: bytes = b""
    tlvs: tuple[Tlv, ...] = ()

    def response(self, *, command_status: int = 0, tlvs: tuple[Tlv, ...] = ()) -> DeliverSmResp:
        """The matching deliver_sm_resp (§4.6.2), message_id left NULL as the spec asks."""
        return DeliverSmResp(sequence_number=self.sequence_number, command_status=command_status, tlvs=tlvs)


@dataclass(frozen=True, kw_only=True, slots=True)
class DataSmResp(SmppPdu):
    """data_sm_resp (SMPP v3.4 §4.7.2)."""

    command_id: ClassVar[int] = CommandId.DATA_SM_RESP
    command_name: ClassVar[str] = "data_sm_resp"

    message_id: str = ""
    tlvs: tuple[Tlv, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class DataSm(SmppPdu):
    """data_sm (SMPP v3.4 §4.7.1): content only in ``message_payload``; addresses up to 64 characters."""

    command_id: ClassVar[int] = CommandId.DATA_SM
    command_name: ClassVar[str] = "data_sm"

    service_type: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: str = ""
    esm_class: int = 0
    registered_delivery: int = 0
    data_coding: int = 0
    tlvs: tuple[Tlv, ...] = ()

    def response(
        self, *, message_id: str = "", command_status: int = 0, tlvs: tuple[Tlv, ...] = ()
    ) -> DataSmResp:
        """The matching data_sm_resp (§4.7.2)."""
        return DataSmResp(
            sequence_number=self.sequence_number,
            command_status=command_status,
            message_id=message_id,
            tlvs=tlvs,
        )


# -- message management (SMPP v3.4 §4.8-§4.10) --------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class QuerySmResp(SmppPdu):
    """query_sm_resp (SMPP v3.4 §4.8.2); ``final_date`` is empty until the message is final."""

    command_id: ClassVar[int] = CommandId.QUERY_SM_RESP
    command_name: ClassVar[str] = "query_sm_resp"

    message_id: str = ""
    final_date: str = ""
    message_state: int = 0
    error_code: int = 0
    tlvs: tuple[Tlv, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class QuerySm(SmppPdu):
    """query_sm (SMPP v3.4 §4.8.1)."""

    command_id: ClassVar[int] = CommandId.QUERY_SM
    command_name: ClassVar[str] = "query_sm"

    message_id: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    tlvs: tuple[Tlv, ...] = ()

    def response(
        self,
        *,
        message_state: int = 0,
        final_date: str = "",
        error_code: int = 0,
        command_status: int = 0,
        tlvs: tuple[Tlv, ...] = (),
    ) -> QuerySmResp:
        """The matching query_sm_resp (§4.8.2), echoing the queried message_id."""
        return QuerySmResp(
            sequence_number=self.sequence_number,
            command_status=command_status,
            message_id=self.message_id,
            final_date=final_date,
            message_state=message_state,
            error_code=error_code,
            tlvs=tlvs,
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class CancelSmResp(SmppPdu):
    """cancel_sm_resp (SMPP v3.4 §4.9.2)."""

    command_id: ClassVar[int] = CommandId.CANCEL_SM_RESP
    command_name: ClassVar[str] = "cancel_sm_resp"

    tlvs: tuple[Tlv, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class CancelSm(SmppPdu):
    """cancel_sm (SMPP v3.4 §4.9.1)."""

    command_id: ClassVar[int] = CommandId.CANCEL_SM
    command_name: ClassVar[str] = "cancel_sm"

    service_type: str = ""
    message_id: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: str = ""
    tlvs: tuple[Tlv, ...] = ()

    def response(self, *, command_status: int = 0, tlvs: tuple[Tlv, ...] = ()) -> CancelSmResp:
        """The matching cancel_sm_resp (§4.9.2)."""
        return CancelSmResp(sequence_number=self.sequence_number, command_status=command_status, tlvs=tlvs)


@dataclass(frozen=True, kw_only=True, slots=True)
class ReplaceSmResp(SmppPdu):
    """replace_sm_resp (SMPP v3.4 §4.10.2)."""

    command_id: ClassVar[int] = CommandId.REPLACE_SM_RESP
    command_name: ClassVar[str] = "replace_sm_resp"

    tlvs: tuple[Tlv, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class ReplaceSm(SmppPdu):
    """replace_sm (SMPP v3.4 §4.10.1; SMPP 5.0 allows a message_payload TLV)."""

    command_id: ClassVar[int] = CommandId.REPLACE_SM
    command_name: ClassVar[str] = "replace_sm"

    message_id: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    schedule_delivery_time: str = ""
    validity_period: str = ""
    registered_delivery: int = 0
    sm_default_msg_id: int = 0
    short_message: bytes = b""
    tlvs: tuple[Tlv, ...] = ()

    def response(self, *, command_status: int = 0, tlvs: tuple[Tlv, ...] = ()) -> ReplaceSmResp:
        """The matching replace_sm_resp (§4.10.2)."""
        return ReplaceSmResp(sequence_number=self.sequence_number, command_status=command_status, tlvs=tlvs)


# -- SMPP 5.0 broadcast operations -------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class BroadcastSmResp(SmppPdu):
    """broadcast_sm_resp (SMPP 5.0)."""

    command_id: ClassVar[int] = CommandId.BROADCAST_SM_RESP
    command_name: ClassVar[str] = "broadcast_sm_resp"

    message_id: str = ""
    tlvs: tuple[Tlv, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class BroadcastSm(SmppPdu):
    """broadcast_sm (SMPP 5.0).

    The broadcast_area_identifier, broadcast_content_type, broadcast_rep_num and
    broadcast_frequency_interval TLVs are mandatory for the operation; the message text travels in
    ``message_payload``. Checking their presence is the gateway's job, not the codec's.
    """

    command_id: ClassVar[int] = CommandId.BROADCAST_SM
    command_name: ClassVar[str] = "broadcast_sm"

    service_type: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    message_id: str = ""
    priority_flag: int = 0
    schedule_delivery_time: str = ""
    validity_period: str = ""
    replace_if_present_flag: int = 0
    data_coding: int = 0
    sm_default_msg_id: int = 0
    tlvs: tuple[Tlv, ...] = ()

    def response(
        self, *, message_id: str = "", command_status: int = 0, tlvs: tuple[Tlv, ...] = ()
    ) -> BroadcastSmResp:
        """The matching broadcast_sm_resp."""
        return BroadcastSmResp(
            sequence_number=self.sequence_number,
            command_status=command_status,
            message_id=message_id,
            tlvs=tlvs,
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class QueryBroadcastSmResp(SmppPdu):
    """query_broadcast_sm_resp (SMPP 5.0); message_state and areas travel as TLVs."""

    command_id: ClassVar[int] = CommandId.QUERY_BROADCAST_SM_RESP
    command_name: ClassVar[str] = "query_broadcast_sm_resp"

    message_id: str = ""
    tlvs: tuple[Tlv, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class QueryBroadcastSm(SmppPdu):
    """query_broadcast_sm (SMPP 5.0)."""

    command_id: ClassVar[int] = CommandId.QUERY_BROADCAST_SM
    command_name: ClassVar[str] = "query_broadcast_sm"

    message_id: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    tlvs: tuple[Tlv, ...] = ()

    def response(self, *, command_status: int = 0, tlvs: tuple[Tlv, ...] = ()) -> QueryBroadcastSmResp:
        """The matching query_broadcast_sm_resp, echoing the queried message_id."""
        return QueryBroadcastSmResp(
            sequence_number=self.sequence_number,
            command_status=command_status,
            message_id=self.message_id,
            tlvs=tlvs,
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class CancelBroadcastSmResp(SmppPdu):
    """cancel_broadcast_sm_resp (SMPP 5.0)."""

    command_id: ClassVar[int] = CommandId.CANCEL_BROADCAST_SM_RESP
    command_name: ClassVar[str] = "cancel_broadcast_sm_resp"

    tlvs: tuple[Tlv, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class CancelBroadcastSm(SmppPdu):
    """cancel_broadcast_sm (SMPP 5.0)."""

    command_id: ClassVar[int] = CommandId.CANCEL_BROADCAST_SM
    command_name: ClassVar[str] = "cancel_broadcast_sm"

    service_type: str = ""
    message_id: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    tlvs: tuple[Tlv, ...] = ()

    def response(self, *, command_status: int = 0, tlvs: tuple[Tlv, ...] = ()) -> CancelBroadcastSmResp:
        """The matching cancel_broadcast_sm_resp."""
        return CancelBroadcastSmResp(
            sequence_number=self.sequence_number, command_status=command_status, tlvs=tlvs
        )
