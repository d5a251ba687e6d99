"""SMPP sessions: back-to-back ESME <-> SMSC exchanges, timers, windows, and the Table 2-1 sweep."""

from __future__ import annotations

import dataclasses
import itertools

import pytest
from session_pair import Pair

from protocols import smpp
from protocols.errors import LocalProtocolError
from protocols.session import Disconnect, KeepAliveAnswered, PeerViolation, ResponseTimeout, Role, ViolationKind
from protocols.smpp.session import DEFAULT_SERVER_TIMING, SmppSession, SmppState

St = smpp.CommandStatus


def make_pair(**server_kwargs) -> Pair:
    return Pair(client=SmppSession(role=Role.CLIENT, now=0.0),
                server=SmppSession(role=Role.SERVER, now=0.0, **server_kwargs))


def bound_pair(bind=smpp.BindTransceiver, **server_kwargs) -> Pair:
    pair = make_pair(**server_kwargs)
    (request,) = pair.client_sends(bind(system_id="sp1", password="secret", interface_version=0x34))
    pair.server_sends(request.response(system_id="smsclab"))
    return pair


def decode_all(data: bytes) -> list[smpp.SmppPdu]:
    return [smpp.decode(frame) for frame in smpp.frame_buffer().feed(data)]


# -- back to back -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("bind", "state"), [
    (smpp.BindTransmitter, SmppState.BOUND_TX),
    (smpp.BindReceiver, SmppState.BOUND_RX),
    (smpp.BindTransceiver, SmppState.BOUND_TRX),
])
def test_bind_moves_both_ends_to_the_bound_state(bind, state):
    pair = bound_pair(bind)
    assert pair.client.state is state
    assert pair.server.state is state
    assert pair.server.system_id == "sp1"
    assert pair.server.peer_interface_version == 0x34
    (resp,) = pair.client_events
    assert resp.command_status == St.ESME_ROK and resp.system_id == "smsclab"


def test_failed_bind_leaves_the_session_open_for_another_try():
    pair = make_pair()
    (request,) = pair.client_sends(smpp.BindTransceiver(system_id="sp1", password="bad"))
    pair.server_sends(request.response(command_status=St.ESME_RINVPASWD))
    assert pair.client.state is SmppState.OPEN
    assert pair.client_events[-1].command_status == St.ESME_RINVPASWD
    (request,) = pair.client_sends(smpp.BindTransceiver(system_id="sp1", password="secret"))
    pair.server_sends(request.response(system_id="smsclab"))
    assert pair.client.state is SmppState.BOUND_TRX


def test_submit_and_response_are_matched_by_sequence_number():
    pair = bound_pair()
    sequence = pair.client.next_sequence()
    (submit,) = pair.client_sends(smpp.SubmitSm(sequence_number=sequence, source_addr="1069001",
                                                destination_addr="13800138000", short_message=b"hi"))
    assert submit.sequence_number == sequence and submit.short_message == b"hi"
    assert pair.client.outstanding == 1
    pair.server_sends(submit.response(message_id="1a"))
    assert pair.client.outstanding == 0
    resp = pair.client_events[-1]
    assert isinstance(resp, smpp.SubmitSmResp)
    assert (resp.sequence_number, resp.message_id) == (sequence, "1a")


def test_deliver_sm_flows_from_smsc_to_esme():
    pair = bound_pair()
    (deliver,) = pair.server_sends(smpp.DeliverSm(esm_class=0x04, short_message=b"id:1 stat:DELIVRD"))
    pair.client_sends(deliver.response())
    assert isinstance(pair.server_events[-1], smpp.DeliverSmResp)


def test_enquire_link_after_idle_interval_is_answered_and_timed():
    pair = bound_pair()
    pair.advance(31)
    answered = [e for e in pair.client_events + pair.server_events if isinstance(e, KeepAliveAnswered)]
    assert answered and all(e.rtt == 0 for e in answered)
    assert not pair.client.closed and not pair.server.closed


def test_unanswered_enquire_links_disconnect_after_three_probes():
    client = SmppSession(role=Role.CLIENT, now=0.0)
    server = SmppSession(role=Role.SERVER, now=0.0)
    pair = Pair(client=client, server=server)
    (request,) = pair.client_sends(smpp.BindTransceiver(system_id="sp1", password="pw"))
    pair.server_sends(request.response())
    # From now on the SMSC vanishes: nothing the ESME sends arrives.
    probes: list[smpp.SmppPdu] = []
    events = []
    now = 0.0
    while not client.closed and now < 1000:
        deadline = client.next_timer()
        assert deadline is not None
        now = deadline
        events += client.handle_timer(now)
        probes += decode_all(client.data_to_send())
    assert [type(p) for p in probes] == [smpp.EnquireLink] * 3
    assert isinstance(events[-1], Disconnect)
    assert now == pytest.approx(30 + 3 * 30)


def test_request_without_response_times_out():
    pair = bound_pair()
    pair.client_sends(smpp.SubmitSm(destination_addr="13800138000"))
    # The server keeps the request and never answers it.
    pair.advance(30.5)
    timeouts = [e for e in pair.client_events if isinstance(e, ResponseTimeout)]
    assert len(timeouts) == 1 and isinstance(timeouts[0].request, smpp.SubmitSm)
    assert pair.client.outstanding == 0


def test_server_closes_a_connection_that_never_binds():
    server = SmppSession(role=Role.SERVER, now=100.0)
    assert server.next_timer() == 110.0
    assert server.handle_timer(109.9) == []
    events = server.handle_timer(110.0)
    assert isinstance(events[-1], Disconnect) and server.closed


def test_unbind_from_the_esme_ends_both_sessions():
    pair = bound_pair()
    (unbind,) = pair.client_sends(smpp.Unbind())
    assert pair.server.state is SmppState.UNBOUND
    pair.server_sends(unbind.response())
    assert pair.server.closed and pair.client.closed
    assert isinstance(pair.client_events[-1], Disconnect)


def test_unbind_from_the_smsc_ends_both_sessions():
    pair = bound_pair()
    (unbind,) = pair.server_sends(smpp.Unbind())
    pair.client_sends(unbind.response())
    assert pair.server.closed and pair.client.closed


def test_peer_over_the_window_gets_msgqful_and_the_session_stays():
    pair = bound_pair(timing=dataclasses.replace(DEFAULT_SERVER_TIMING, peer_window=3))
    window = pair.server.timing.peer_window
    for _ in range(window):
        pair.client_sends(smpp.SubmitSm(destination_addr="13800138000"))
    assert pair.server.awaiting_answer == window
    extra = pair.client_sends(smpp.SubmitSm(destination_addr="13800138000"))
    assert [type(e) for e in extra] == [PeerViolation]
    resp = pair.client_events[-1]
    assert isinstance(resp, smpp.SubmitSmResp) and resp.command_status == St.ESME_RMSGQFUL
    assert pair.server.state is SmppState.BOUND_TRX


def test_our_own_window_is_enforced():
    pair = bound_pair()
    for _ in range(pair.client.timing.window):
        pair.client_sends(smpp.SubmitSm(destination_addr="1"))
    assert not pair.client.can_send_request
    with pytest.raises(LocalProtocolError):
        pair.client.send(smpp.SubmitSm(destination_addr="1"), pair.now)


def test_a_sequence_number_reused_while_unanswered_is_refused():
    server = bound_pair().server
    submit = smpp.encode(smpp.SubmitSm(sequence_number=77, destination_addr="1"))
    (first,) = server.receive_data(submit, 0.0)
    events = server.receive_data(submit, 0.0)
    assert [(type(e), e.kind) for e in events] == [(PeerViolation, ViolationKind.DUPLICATE_SEQUENCE)]
    (refusal,) = decode_all(server.data_to_send())
    assert refusal == smpp.SubmitSmResp(sequence_number=77, command_status=St.ESME_RUNKNOWNERR)
    assert server.awaiting_answer == 1  # the first request still awaits its own answer
    server.send(first.response(message_id="1"), 0.0)


def test_sequence_numbers_wrap_from_0x7fffffff_to_1():
    session = SmppSession(role=Role.CLIENT, now=0.0, first_sequence=0x7FFFFFFE)
    assert [session.next_sequence() for _ in range(3)] == [0x7FFFFFFE, 0x7FFFFFFF, 1]


def test_peer_sequence_numbers_are_echoed_unchanged():
    server = bound_pair().server
    for sequence in (0, 0x80000000, 0xFFFFFFFF):
        frame = smpp.encode(smpp.EnquireLink(sequence_number=sequence))
        server.receive_data(frame, 0.0)
        (resp,) = decode_all(server.data_to_send())
        assert resp.sequence_number == sequence


def test_bind_resp_and_first_deliver_sm_in_one_segment():
    client = SmppSession(role=Role.CLIENT, now=0.0)
    client.send(smpp.BindTransceiver(sequence_number=1, system_id="sp1"), 0.0)
    segment = (smpp.encode(smpp.BindTransceiverResp(sequence_number=1, system_id="smsc"))
               + smpp.encode(smpp.DeliverSm(sequence_number=77, short_message=b"mo")))
    events = client.receive_data(segment, 0.0)
    assert [type(e) for e in events] == [smpp.BindTransceiverResp, smpp.DeliverSm]
    assert client.state is SmppState.BOUND_TRX


@pytest.mark.parametrize("cut", [1, 3, 17])
def test_a_pdu_split_at_any_byte_is_received_once(cut):
    pair = bound_pair()
    frame = smpp.encode(smpp.SubmitSm(sequence_number=5, destination_addr="13800138000", short_message=b"x"))
    assert pair.server.receive_data(frame[:cut], 0.0) == []
    (event,) = pair.server.receive_data(frame[cut:], 0.0)
    assert isinstance(event, smpp.SubmitSm) and event.sequence_number == 5


def test_unknown_command_id_gets_generic_nack_and_the_session_stays():
    server = bound_pair().server
    for command_id in (0x00000077, 0x80000077):
        frame = (16).to_bytes(4, "big") + command_id.to_bytes(4, "big") + bytes(4) + (9).to_bytes(4, "big")
        events = server.receive_data(frame, 0.0)
        assert isinstance(events[0], PeerViolation)
        (nack,) = decode_all(server.data_to_send())
        assert nack == smpp.GenericNack(command_status=St.ESME_RINVCMDID, sequence_number=9)
    assert server.state is SmppState.BOUND_TRX


def test_bad_command_length_gets_generic_nack_then_disconnect():
    server = bound_pair().server
    header = (8).to_bytes(4, "big") + (4).to_bytes(4, "big") + bytes(4) + (12).to_bytes(4, "big")
    events = server.receive_data(header, 0.0)
    assert isinstance(events[-1], Disconnect) and server.closed
    (nack,) = decode_all(server.data_to_send())
    assert nack == smpp.GenericNack(command_status=St.ESME_RINVCMDLEN, sequence_number=12)


def test_body_error_is_answered_in_the_commands_own_response():
    server = bound_pair().server
    good = smpp.encode(smpp.SubmitSm(sequence_number=3, short_message=b"hello"))
    # sm_length claims more octets than the body holds.
    truncated = good[:-6]
    broken = len(truncated).to_bytes(4, "big") + truncated[4:]
    events = server.receive_data(broken, 0.0)
    assert isinstance(events[0], PeerViolation) and events[0].answered
    (resp,) = decode_all(server.data_to_send())
    assert isinstance(resp, smpp.SubmitSmResp) and resp.sequence_number == 3 and resp.command_status != 0
    assert server.state is SmppState.BOUND_TRX


def test_a_response_we_did_not_ask_for_is_reported_not_answered():
    server = bound_pair().server
    events = server.receive_data(smpp.encode(smpp.DeliverSmResp(sequence_number=99)), 0.0)
    assert isinstance(events[0], PeerViolation) and not events[0].answered
    assert server.data_to_send() == b""


def test_answering_a_request_nobody_sent_is_our_bug():
    server = bound_pair().server
    with pytest.raises(LocalProtocolError):
        server.send(smpp.SubmitSmResp(sequence_number=1234), 0.0)


# -- the Table 2-1 sweep --------------------------------------------------------------------------------
# SMPP v3.4 §2.3 Table 2-1 in the spec's words, written out independently of protocols.smpp.session.
TX, RX, TRX = "BOUND_TX", "BOUND_RX", "BOUND_TRX"
TABLE_2_1 = {
    # request: (states in which it is legal, issued by ESME, issued by SMSC)
    "bind_transmitter": ({"OPEN"}, True, False),
    "bind_receiver": ({"OPEN"}, True, False),
    "bind_transceiver": ({"OPEN"}, True, False),
    "outbind": ({"OPEN"}, False, True),
    "unbind": ({TX, RX, TRX}, True, True),
    "submit_sm": ({TX, TRX}, True, False),
    "submit_multi": ({TX, TRX}, True, False),
    "data_sm": ({TX, RX, TRX}, True, True),
    "deliver_sm": ({RX, TRX}, False, True),
    "query_sm": ({TX, TRX}, True, False),
    "cancel_sm": ({TX, TRX}, True, False),
    "replace_sm": ({TX, TRX}, True, False),
    "enquire_link": ({TX, RX, TRX}, True, True),
    "alert_notification": ({RX, TRX}, False, True),
    "broadcast_sm": ({TX, TRX}, True, False),
    "query_broadcast_sm": ({TX, TRX}, True, False),
    "cancel_broadcast_sm": ({TX, TRX}, True, False),
}
NO_RESPONSE = {"outbind", "alert_notification"}
BINDS = {"bind_transmitter", "bind_receiver", "bind_transceiver"}
REQUESTS = {cls.command_name: cls for cls in smpp.PDU_TYPES.values() if not cls.command_id & 0x80000000}


def test_sweep_covers_every_request_the_codec_knows():
    assert set(REQUESTS) == set(TABLE_2_1)


def session_in(state: str, role: Role) -> SmppSession:
    """A session of ``role`` brought to ``state`` through real exchanges."""
    pair = make_pair()
    if state != "OPEN":
        bind = {TX: smpp.BindTransmitter, RX: smpp.BindReceiver}.get(state, smpp.BindTransceiver)
        (request,) = pair.client_sends(bind(system_id="sp1"))
        pair.server_sends(request.response())
    if state == "UNBOUND":
        pair.client_sends(smpp.Unbind()) if role is Role.SERVER else pair.server_sends(smpp.Unbind())
    session = pair.server if role is Role.SERVER else pair.client
    session.data_to_send()
    return session


@pytest.mark.parametrize(("state", "command", "role"), list(itertools.product(
    ["OPEN", TX, RX, TRX, "UNBOUND"], sorted(TABLE_2_1), [Role.SERVER, Role.CLIENT])))
def test_table_2_1_sweep(state, command, role):
    session = session_in(state, role)
    assert session.state.value == state
    states, by_esme, by_smsc = TABLE_2_1[command]
    peer_may_issue = by_esme if role is Role.SERVER else by_smsc
    request = REQUESTS[command](sequence_number=42)
    events = session.receive_data(smpp.encode(request), 0.0)
    answer = decode_all(session.data_to_send())
    if state in states and peer_may_issue:
        if command == "enquire_link":
            assert answer == [smpp.EnquireLinkResp(sequence_number=42)]
        else:
            assert [type(e) for e in events] == [type(request)] and answer == []
        return
    # Refused: the command's own response carries the status, or a generic_nack for PDUs without one.
    status = St.ESME_RALYBND if command in BINDS and state != "OPEN" else St.ESME_RINVBNDSTS
    if command in NO_RESPONSE:
        assert answer == [smpp.GenericNack(command_status=status, sequence_number=42)]
    else:
        (refusal,) = answer
        assert type(refusal).command_name == command + "_resp"
        assert (refusal.command_status, refusal.sequence_number) == (status, 42)
    assert session.state.value == state


@pytest.mark.parametrize(("profile", "expected"), [
    ("cloudhopper", "generic_nack"), ("jsmpp", "close"), ("spec", "submit_sm_resp")])
def test_profiles_answer_a_submit_before_bind_their_own_way(profile, expected):
    server = SmppSession(role=Role.SERVER, now=0.0, profile=profile)
    events = server.receive_data(smpp.encode(smpp.SubmitSm(sequence_number=8)), 0.0)
    answer = decode_all(server.data_to_send())
    if expected == "close":
        assert answer == [] and server.closed and isinstance(events[-1], Disconnect)
    else:
        (pdu,) = answer
        assert pdu.command_name == expected and pdu.command_status == St.ESME_RINVBNDSTS


def test_smpp50_profile_answers_enquire_link_before_bind():
    server = SmppSession(role=Role.SERVER, now=0.0, profile="smpp50")
    server.receive_data(smpp.encode(smpp.EnquireLink(sequence_number=4)), 0.0)
    assert decode_all(server.data_to_send()) == [smpp.EnquireLinkResp(sequence_number=4)]


@pytest.mark.parametrize("command", sorted(c for c, (_, by_esme, _) in TABLE_2_1.items() if not by_esme))
def test_sending_what_our_role_may_not_send_is_our_bug(command):
    client = session_in(TRX, Role.CLIENT)
    with pytest.raises(LocalProtocolError):
        client.send(REQUESTS[command](), 0.0)


def test_pdus_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        smpp.SubmitSm().short_message = b"x"  # type: ignore[misc]
