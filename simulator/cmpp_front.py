"""The ISMG side of one CMPP connection: CONNECT authentication, SUBMIT, QUERY, CANCEL, status reports, MO.

Answers follow CMPP 3.0 §8.4 and the codes of reference cmpp.md §4: CONNECT_RESP Status 2 for an unknown
Source_Addr or an address outside the account's allow-list, 3 for a wrong authenticator (16 zero bytes
in AuthenticatorISMG, "认证出错时，此项为空"), 4 for a Version we do not serve, 5 over the connection
limit; SUBMIT_RESP Result 8 when flow control refuses.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from protocols import cmpp, text
from protocols.cmpp.session import CmppSession, CmppState
from simulator.gateway import Accepted, Receipt, Submission
from simulator.refusals import Refusal
from simulator.store import MessageRow, MoRow

from .front import Front, receipt_minute

__all__ = ["CmppFront"]

_REPORT_TIME = "%y%m%d%H%M"
#: The field carrying each PDU type's status (Result, Status, or Success_Id for CMPP_ACTIVE_TEST_RESP; "" for
#: requests), found once per type.
_STATUS_FIELDS: dict[type, str] = {}  # CMPP 3.0 §8.4.5.1 Submit_time / Done_time: YYMMDDHHMM


class CmppFront(Front[cmpp.CmppPdu]):
    """One SP connection to the simulated ISMG."""

    protocol = "cmpp"
    session: CmppSession
    audited_elsewhere = frozenset({"CMPP_SUBMIT", "CMPP_DELIVER_RESP"})

    @property
    def receiving(self) -> bool:
        """Bound (connected) to receive receipts and MO."""
        return self.session.state is CmppState.CONNECTED

    def shut_down(self) -> None:
        """CMPP_TERMINATE towards the SP (CMPP 3.0 §8.4.2)."""
        if self.session.state is CmppState.CONNECTED:
            self._say_goodbye(cmpp.Terminate())

    def _state_name(self) -> str:
        return self.session.state.value

    def _status_of(self, pdu: cmpp.CmppPdu) -> int:
        kind = type(pdu)
        field = _STATUS_FIELDS.get(kind)
        if field is None:
            field = _STATUS_FIELDS[kind] = next(
                (name for name in ("result", "status", "success_id") if hasattr(pdu, name)), "")
        return int(getattr(pdu, field)) if field else 0

    def _sequence_of(self, pdu: cmpp.CmppPdu) -> int:
        return pdu.sequence_id

    def _dispatch(self, pdu: cmpp.CmppPdu, now: float,
                  accepted: list[tuple[cmpp.CmppPdu, Accepted]]) -> None:
        handler = _HANDLERS.get(type(pdu))
        if handler is not None:
            handler(self, pdu, now, accepted)

    # -- requests from the SP ------------------------------------------------------------------------

    def _on_connect(self, pdu: cmpp.CmppPdu, now: float, _: object) -> None:
        assert isinstance(pdu, cmpp.Connect)
        gateway = self.gateway
        account = gateway.account(pdu.source_addr)
        versions = gateway.config.cmpp.versions
        # The first failing check decides the Status, in this order (CMPP 3.0 §8.4.1.2).
        checks: tuple[tuple[Callable[[], bool], int], ...] = (
            (lambda: account is not None, cmpp.ConnectStatus.ILLEGAL_SOURCE),
            (lambda: account is not None and gateway.ip_allowed(account, self.peer), cmpp.ConnectStatus.ILLEGAL_SOURCE),
            (lambda: pdu.version in versions, cmpp.ConnectStatus.VERSION_TOO_HIGH),
            (lambda: account is not None and cmpp.verify_connect(pdu, account.secret),
             cmpp.ConnectStatus.AUTHENTICATION),
            (lambda: account is not None and gateway.connections(account.id) < account.max_connections,
             cmpp.ConnectStatus.OTHER),
            (lambda: account is not None and not gateway.policy.is_suspended(account.id), cmpp.ConnectStatus.OTHER),
            # A refuse- or terminate-mode maintenance refuses binds for its whole period (clause 2.9).
            (lambda: account is not None and not gateway.conditions.refuses_binds(account.id),
             cmpp.ConnectStatus.OTHER),
        )
        status = next((code for passes, code in checks if not passes()), cmpp.ConnectStatus.OK)
        if status == cmpp.ConnectStatus.OK and account is not None:
            authenticator = cmpp.authenticator_ismg(status, pdu.authenticator_source, account.secret,
                                                    self.session.version)
            version = pdu.version
        else:
            authenticator, version = bytes(16), max(versions)
        self.send(pdu.response(status=status, version=version, authenticator_ismg=authenticator), now)
        if status == cmpp.ConnectStatus.OK and account is not None:
            self._attach(account)
            gateway.events.emit(now, "session.connected", session=self.label, protocol="cmpp", account=account.id,
                                version=f"0x{pdu.version:02x}", peer=self.peer)
        else:
            gateway.metrics.bind_failures.labels("cmpp", str(int(status))).inc()
            gateway.events.emit(now, "session.refused", session=self.label, protocol="cmpp",
                                account=pdu.source_addr, status=int(status), peer=self.peer)

    def _on_submit(self, pdu: cmpp.CmppPdu, now: float, accepted: list[tuple[cmpp.CmppPdu, Accepted]]) -> None:
        assert isinstance(pdu, cmpp.Submit)
        submission = Submission(
            protocol="cmpp", session=self.label, source=pdu.src_id, destinations=pdu.dest_terminal_id,
            content=pdu.msg_content, data_coding=pdu.msg_fmt, encoding=text.encoding_for_msg_fmt(pdu.msg_fmt),
            udhi=text.udhi_set(pdu.tp_udhi),
            receipt=Receipt.ALWAYS if pdu.registered_delivery == 1 else Receipt.NONE,
            service_id=pdu.service_id, pk=(pdu.pk_total, pdu.pk_number), msg_src=pdu.msg_src, fee_type=pdu.fee_type,
            sequence=pdu.sequence_id)
        self._decide(pdu, submission, now, accepted)

    def _on_deliver_resp(self, pdu: cmpp.CmppPdu, now: float, _: object) -> None:
        assert isinstance(pdu, cmpp.DeliverResp)
        self._delivery_answered(pdu.sequence_id, pdu.result == 0, now)

    def _on_query(self, pdu: cmpp.CmppPdu, now: float, _: object) -> None:
        assert isinstance(pdu, cmpp.Query)
        service_id = pdu.query_code if pdu.query_type == 1 else None

        async def answer() -> None:
            try:
                counters = await self.gateway.query_counters(self.account, pdu.time, service_id, now)
            except ValueError:  # Time is not a YYYYMMDD date: nothing was sent that day
                counters = {}
            self.send(pdu.response(**counters), self.gateway.clock.now())

        self._spawn(answer())

    def _on_cancel(self, pdu: cmpp.CmppPdu, now: float, _: object) -> None:
        assert isinstance(pdu, cmpp.Cancel)

        async def answer() -> None:
            done = await self.gateway.cancel(self.account, str(pdu.msg_id), now)
            self.send(pdu.response(success_id=0 if done else 1), self.gateway.clock.now())

        self._spawn(answer())

    def _on_terminate(self, pdu: cmpp.CmppPdu, now: float, _: object) -> None:
        assert isinstance(pdu, cmpp.Terminate)
        self.send(pdu.response(), now)

    # -- responses -----------------------------------------------------------------------------------

    def _accepted_response(self, request: cmpp.CmppPdu, accepted: Accepted) -> cmpp.CmppPdu:
        assert isinstance(request, cmpp.Submit)
        return request.response(msg_id=int(accepted.message_id), result=cmpp.SubmitResult.OK)

    def _refused_response(self, request: cmpp.CmppPdu, refusal: Refusal) -> cmpp.CmppPdu:
        assert isinstance(request, cmpp.Submit)
        return request.response(msg_id=0, result=refusal.cmpp_result)

    # -- towards the SP ------------------------------------------------------------------------------

    def _new_msg_id(self, now: float) -> int:
        """An ISMG-generated Msg_Id for a DELIVER (CMPP 3.0 §8.4.5.1)."""
        return int(self.gateway.new_cmpp_msg_id(now))

    def _receipt_pdu(self, row: MessageRow, now: float, sequence: int) -> cmpp.CmppPdu:
        zone = self.gateway.zone
        report = cmpp.Report(
            msg_id=int(row.message_id), stat=row.state,
            submit_time=receipt_minute(row.submitted_at, zone), done_time=receipt_minute(row.done_at, zone),
            dest_terminal_id=row.destination, smsc_sequence=row.id & 0xFFFFFFFF)
        return cmpp.Deliver(sequence_id=sequence, msg_id=self._new_msg_id(now), dest_id=row.source,
                            service_id=row.service_id, src_terminal_id=row.destination, registered_delivery=1,
                            msg_content=cmpp.build_report(report, self.session.version))

    def _mo_pdu(self, mo: MoRow, now: float, sequence: int) -> cmpp.CmppPdu:
        return cmpp.Deliver(sequence_id=sequence, msg_id=self._new_msg_id(now), dest_id=mo.destination,
                            src_terminal_id=mo.source, registered_delivery=0, msg_fmt=mo.data_coding,
                            tp_udhi=mo.udhi, msg_content=mo.content)


_Handler = Callable[[CmppFront, cmpp.CmppPdu, float, list[tuple[cmpp.CmppPdu, Accepted]]], None]

#: What the ISMG does with each PDU the SP may send; responses to our requests included.
_HANDLERS: Mapping[type[cmpp.CmppPdu], _Handler] = MappingProxyType({
    cmpp.Connect: CmppFront._on_connect,
    cmpp.Submit: CmppFront._on_submit,
    cmpp.DeliverResp: CmppFront._on_deliver_resp,
    cmpp.Query: CmppFront._on_query,
    cmpp.Cancel: CmppFront._on_cancel,
    cmpp.Terminate: CmppFront._on_terminate,
})
