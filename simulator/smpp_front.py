"""The SMSC side of one SMPP connection: binds, submit_sm / submit_multi / data_sm, query, cancel, replace,
delivery receipts and MO.

Bind answers (SMPP v3.4 §4.1 and Table 5-2): ESME_RINVSYSID for an unknown system_id, ESME_RINVPASWD for a
wrong password, ESME_RBINDFAIL for an address outside the allow-list or one bind too many; a second bind on
a bound session is the session table's ESME_RALYBND. Receipts follow Appendix B, with the
receipted_message_id and message_state TLVs unless the ESME bound with interface_version < 0x34 (§3.3).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from types import MappingProxyType

from protocols import smpp, text
from protocols.smpp.session import SmppSession, SmppState
from simulator.gateway import MESSAGE_STATES, Accepted, Receipt, Submission
from simulator.refusals import Refusal
from simulator.store import MessageRow, MoRow

from .front import Front, receipt_minute

__all__ = ["SmppFront"]

St = smpp.CommandStatus

_RECEIVING = frozenset({SmppState.BOUND_RX, SmppState.BOUND_TRX})
_BOUND = frozenset({SmppState.BOUND_TX, SmppState.BOUND_RX, SmppState.BOUND_TRX})
_SUBMIT_LIKE = (smpp.SubmitSm, smpp.DataSm)
_SUBMITS = (smpp.SubmitSm, smpp.DataSm, smpp.SubmitMulti)
# Flag values as plain ints, looked up once rather than on the enum for every submit.
_UDHI = int(smpp.EsmClass.UDHI)
_RECEIPT_MASK = int(smpp.RegisteredDelivery.RECEIPT_MASK)
_SAR_TLVS = ("sar_msg_ref_num", "sar_total_segments", "sar_segment_seqnum")
#: registered_delivery bits 1-0 -> what the ESME asked to hear (a tuple, not Receipt(value): this runs per submit).
_RECEIPTS = tuple(Receipt(value) for value in range(4))
_DELIVERED = 2  # message_state DELIVERED
#: The message_state TLV of each receipt stat, built once (frozen, so one object serves every receipt);
#: a CMPP-style stat such as "MK:0005" has no SMPP state and reads UNKNOWN (7).
_MESSAGE_STATE_TLVS = {stat: smpp.Tlv.of("message_state", state) for stat, state in MESSAGE_STATES.items()}
_UNKNOWN_STATE_TLV = smpp.Tlv.of("message_state", MESSAGE_STATES["UNKNOWN"])
_ENROUTE = 1


def _absolute_time(moment: float, zone: object) -> str:
    """SMPP v3.4 §7.1.1 absolute time YYMMDDhhmmsstnnp (tenths, quarter hours from UTC, sign)."""
    local = datetime.fromtimestamp(moment, zone)  # type: ignore[arg-type]
    offset = local.utcoffset()
    quarters = 0 if offset is None else int(offset.total_seconds() // 900)
    sign = "+" if quarters >= 0 else "-"
    return local.strftime("%y%m%d%H%M%S") + f"{local.microsecond // 100_000}{abs(quarters):02d}{sign}"


class SmppFront(Front[smpp.SmppPdu]):
    """One ESME connection to the simulated SMSC."""

    protocol = "smpp"
    session: SmppSession
    audited_elsewhere = frozenset({"submit_sm", "submit_multi", "data_sm", "deliver_sm_resp", "data_sm_resp",
                                   "generic_nack"})

    @property
    def receiving(self) -> bool:
        """Bound (connected) to receive receipts and MO."""
        return self.session.state in _RECEIVING

    def shut_down(self) -> None:
        """unbind towards the ESME (SMPP v3.4 §4.2)."""
        if self.session.state in _BOUND:
            self._say_goodbye(smpp.Unbind())

    def _state_name(self) -> str:
        return self.session.state.value

    def _status_of(self, pdu: smpp.SmppPdu) -> int:
        return pdu.command_status

    def _sequence_of(self, pdu: smpp.SmppPdu) -> int:
        return pdu.sequence_number

    def _dispatch(self, pdu: smpp.SmppPdu, now: float, accepted: list[tuple[smpp.SmppPdu, Accepted]]) -> None:
        handler = _HANDLERS.get(type(pdu))
        if handler is not None:
            handler(self, pdu, now, accepted)

    # -- requests from the ESME ----------------------------------------------------------------------

    def _on_bind(self, pdu: smpp.SmppPdu, now: float, _: object) -> None:
        assert isinstance(pdu, smpp.BindTransmitter | smpp.BindReceiver | smpp.BindTransceiver)
        gateway = self.gateway
        account = gateway.account(pdu.system_id)
        checks: tuple[tuple[Callable[[], bool], int], ...] = (
            (lambda: account is not None, St.ESME_RINVSYSID),
            (lambda: account is not None and gateway.ip_allowed(account, self.peer), St.ESME_RBINDFAIL),
            (lambda: account is not None and gateway.password_matches(account, pdu.password), St.ESME_RINVPASWD),
            (lambda: account is not None and gateway.connections(account.id) < account.max_connections,
             St.ESME_RBINDFAIL),
            (lambda: account is not None and not gateway.policy.is_suspended(account.id), St.ESME_RBINDFAIL),
            # A refuse- or terminate-mode maintenance refuses binds for its whole period (clause 2.9).
            (lambda: account is not None and not gateway.conditions.refuses_binds(account.id), St.ESME_RBINDFAIL),
        )
        status = next((code for passes, code in checks if not passes()), St.ESME_ROK)
        # v3.4 §3.3: announce our version so that a 3.4 ESME knows TLVs are understood.
        tlvs = (smpp.Tlv.of("sc_interface_version", 0x34),) if status == St.ESME_ROK else ()
        self.send(pdu.response(system_id=gateway.config.smpp.system_id, command_status=status, tlvs=tlvs), now)
        if status == St.ESME_ROK and account is not None:
            self._attach(account)
            gateway.events.emit(now, "session.bound", session=self.label, protocol="smpp", account=account.id,
                                mode=pdu.command_name, interface_version=pdu.interface_version, peer=self.peer)
        else:
            gateway.metrics.bind_failures.labels("smpp", f"0x{status:08x}").inc()
            gateway.events.emit(now, "session.refused", session=self.label, protocol="smpp",
                                account=pdu.system_id, status=f"0x{status:08x}", peer=self.peer)

    def _on_submit(self, pdu: smpp.SmppPdu, now: float, accepted: list[tuple[smpp.SmppPdu, Accepted]]) -> None:
        assert isinstance(pdu, _SUBMITS)
        if isinstance(pdu, smpp.SubmitMulti):
            destinations = tuple(d.destination_addr for d in pdu.dest_address if d.dest_flag == 1)
        else:
            destinations = (pdu.destination_addr,) if pdu.destination_addr else ()
        content = getattr(pdu, "short_message", b"")
        sar: tuple[object, ...] = ()
        if pdu.tlvs:
            payload = smpp.tlv_value(pdu.tlvs, "message_payload")
            if isinstance(payload, bytes) and not content:
                content = payload
            sar = tuple(smpp.tlv_value(pdu.tlvs, name) for name in _SAR_TLVS)
        submission = Submission(
            protocol="smpp", session=self.label, source=pdu.source_addr, destinations=destinations,
            content=content, data_coding=pdu.data_coding, encoding=text.encoding_for_data_coding(pdu.data_coding),
            udhi=text.udhi_set(pdu.esm_class, mask=_UDHI),
            receipt=_RECEIPTS[pdu.registered_delivery & _RECEIPT_MASK],
            service_id=pdu.service_type,
            sar=sar if sar and all(isinstance(value, int) for value in sar) else None,  # type: ignore[arg-type]
            sequence=pdu.sequence_number)
        self._decide(pdu, submission, now, accepted)

    def _on_query(self, pdu: smpp.SmppPdu, now: float, _: object) -> None:
        assert isinstance(pdu, smpp.QuerySm)

        async def answer() -> None:
            row = await self.gateway.find(self.account, pdu.message_id)
            later = self.gateway.clock.now()
            if row is None:
                self.send(pdu.response(command_status=St.ESME_RQUERYFAIL), later)
                return
            state = self.gateway.state_of(row, later)
            final = state != "ENROUTE"
            self.send(pdu.response(message_state=MESSAGE_STATES[state],
                                   final_date=_absolute_time(row.done_at, self.gateway.zone) if final else "",
                                   error_code=row.err if final else 0), later)

        self._spawn(answer())

    def _on_cancel(self, pdu: smpp.SmppPdu, now: float, _: object) -> None:
        assert isinstance(pdu, smpp.CancelSm)

        async def answer() -> None:
            done = await self.gateway.cancel(self.account, pdu.message_id, now)
            self.send(pdu.response(command_status=St.ESME_ROK if done else St.ESME_RCANCELFAIL),
                      self.gateway.clock.now())

        self._spawn(answer())

    def _on_replace(self, pdu: smpp.SmppPdu, now: float, _: object) -> None:
        assert isinstance(pdu, smpp.ReplaceSm)

        async def answer() -> None:
            done = await self.gateway.replace(self.account, pdu.message_id, pdu.short_message,
                                              text.encoding_for_data_coding(0), now)
            self.send(pdu.response(command_status=St.ESME_ROK if done else St.ESME_RREPLACEFAIL),
                      self.gateway.clock.now())

        self._spawn(answer())

    def _on_broadcast(self, pdu: smpp.SmppPdu, now: float, _: object) -> None:
        # SMPP 5.0 cell broadcast is decoded and answered, but this gateway has no cells to broadcast to.
        assert isinstance(pdu, smpp.BroadcastSm | smpp.QueryBroadcastSm | smpp.CancelBroadcastSm)
        status = {smpp.BroadcastSm: St.ESME_RBCASTFAIL, smpp.QueryBroadcastSm: St.ESME_RBCASTQUERYFAIL,
                  smpp.CancelBroadcastSm: St.ESME_RBCASTCANCELFAIL}[type(pdu)]
        self.send(pdu.response(command_status=status), now)

    def _on_unbind(self, pdu: smpp.SmppPdu, now: float, _: object) -> None:
        assert isinstance(pdu, smpp.Unbind)
        self.send(pdu.response(), now)

    def _on_delivery_answer(self, pdu: smpp.SmppPdu, now: float, _: object) -> None:
        self._delivery_answered(pdu.sequence_number, pdu.command_status == St.ESME_ROK, now)

    # -- responses -----------------------------------------------------------------------------------

    def _accepted_response(self, request: smpp.SmppPdu, accepted: Accepted) -> smpp.SmppPdu:
        if isinstance(request, smpp.SubmitMulti):
            unsuccess = tuple(smpp.UnsuccessSme(dest_addr_ton=0, dest_addr_npi=0, destination_addr=d.dl_name,
                                                error_status_code=St.ESME_RCNTSUBDL)
                              for d in request.dest_address if d.dest_flag != 1)
            return request.response(message_id=accepted.message_id, unsuccess_sme=unsuccess)
        assert isinstance(request, _SUBMIT_LIKE)
        return request.response(message_id=accepted.message_id)

    def _refused_response(self, request: smpp.SmppPdu, refusal: Refusal) -> smpp.SmppPdu:
        assert isinstance(request, _SUBMITS)
        return request.response(command_status=refusal.smpp_status)

    # -- towards the ESME ----------------------------------------------------------------------------

    def _receipt_pdu(self, row: MessageRow, now: float, sequence: int) -> smpp.SmppPdu:
        zone = self.gateway.zone
        delivered = row.state == "DELIVRD"
        body = smpp.build_receipt(smpp.Receipt(
            id=row.message_id, sub=1, dlvrd=1 if delivered else 0,
            submit_date=receipt_minute(row.submitted_at, zone), done_date=receipt_minute(row.done_at, zone),
            stat=row.state, err=f"{row.err:03d}", text=row.text[:20]))
        tlvs: tuple[smpp.Tlv, ...] = ()
        if self.session.peer_interface_version >= 0x34:
            tlvs = (smpp.Tlv.of("receipted_message_id", row.message_id),
                    _MESSAGE_STATE_TLVS.get(row.state, _UNKNOWN_STATE_TLV))
        return smpp.DeliverSm(sequence_number=sequence, source_addr=row.destination, destination_addr=row.source,
                              esm_class=smpp.EsmClass.TYPE_DELIVERY_RECEIPT, short_message=body, tlvs=tlvs)

    def _mo_pdu(self, mo: MoRow, now: float, sequence: int) -> smpp.SmppPdu:
        # Stored MO content is ASCII (identical in GSM 7-bit, so data_coding 0) or UCS2.
        data_coding = smpp.DataCoding.UCS2 if mo.data_coding == 8 else smpp.DataCoding.SMSC_DEFAULT
        return smpp.DeliverSm(sequence_number=sequence, source_addr=mo.source, destination_addr=mo.destination,
                              esm_class=smpp.EsmClass.UDHI if mo.udhi else 0, data_coding=data_coding,
                              short_message=mo.content)


_Handler = Callable[[SmppFront, smpp.SmppPdu, float, list[tuple[smpp.SmppPdu, Accepted]]], None]

#: What the SMSC does with each PDU an ESME may send; answers to our deliver_sm included.
_HANDLERS: Mapping[type[smpp.SmppPdu], _Handler] = MappingProxyType({
    smpp.BindTransmitter: SmppFront._on_bind,
    smpp.BindReceiver: SmppFront._on_bind,
    smpp.BindTransceiver: SmppFront._on_bind,
    smpp.SubmitSm: SmppFront._on_submit,
    smpp.SubmitMulti: SmppFront._on_submit,
    smpp.DataSm: SmppFront._on_submit,
    smpp.QuerySm: SmppFront._on_query,
    smpp.CancelSm: SmppFront._on_cancel,
    smpp.ReplaceSm: SmppFront._on_replace,
    smpp.BroadcastSm: SmppFront._on_broadcast,
    smpp.QueryBroadcastSm: SmppFront._on_broadcast,
    smpp.CancelBroadcastSm: SmppFront._on_broadcast,
    smpp.Unbind: SmppFront._on_unbind,
    smpp.DeliverSmResp: SmppFront._on_delivery_answer,
    smpp.DataSmResp: SmppFront._on_delivery_answer,
    smpp.GenericNack: SmppFront._on_delivery_answer,
})
