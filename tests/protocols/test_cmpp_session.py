"""CMPP sessions: back-to-back SP <-> ISMG exchanges in 2.0, 2.1 and 3.0, timers, windows, and the sweep."""

from __future__ import annotations

import dataclasses
import itertools

import pytest
from session_pair import Pair

from protocols import cmpp
from protocols.cmpp.session import DEFAULT_SERVER_TIMING, CmppSession, CmppState
from protocols.errors import LocalProtocolError
from protocols.session import Disconnect, KeepAliveAnswered, PeerViolation, ResponseTimeout, Role, ViolationKind

V = cmpp.Version
SECRET = "888888"


def connect_request(version: V) -> cmpp.Connect:
    timestamp = cmpp.timestamp_from(10, 21, 8, 5, 10)
    return cmpp.Connect(source_addr="900001", version=version.value, timestamp=timestamp,
                        authenticator_source=cmpp.authenticator_source("900001", SECRET, timestamp))


def make_pair(version: V = V.V30, **server_kwargs) -> Pair:
    return Pair(client=CmppSession(role=Role.CLIENT, now=0.0, version=version),
                server=CmppSession(role=Role.SERVER, now=0.0, **server_kwargs))


def connected_pair(version: V = V.V30, **server_kwargs) -> Pair:
    pair = make_pair(version, **server_kwargs)
    (connect,) = pair.client_sends(connect_request(version))
    assert cmpp.verify_connect(connect, SECRET)
    pair.server_sends(connect.response(
        status=0, version=version.value,
        authenticator_ismg=cmpp.authenticator_ismg(0, connect.authenticator_source, SECRET, version)))
    return pair


def decode_all(data: bytes, version: V) -> list[cmpp.CmppPdu]:
    return [cmpp.decode(frame, version) for frame in cmpp.frame_buffer().feed(data)]


@pytest.mark.parametrize("version", list(V))
def test_connect_settles_the_version_on_both_ends(version):
    pair = connected_pair(version)
    assert pair.client.state is CmppState.CONNECTED and pair.server.state is CmppState.CONNECTED
    assert pair.server.version == version and pair.server.source_addr == "900001"
    (resp,) = pair.client_events
    assert resp.status == 0
    assert resp.authenticator_ismg == cmpp.authenticator_ismg(0, connect_request(version).authenticator_source,
                                                              SECRET, version)


@pytest.mark.parametrize("version", [V.V20, V.V30])
def test_connect_resp_is_in_the_clients_layout(version):
    server = CmppSession(role=Role.SERVER, now=0.0)
    (connect,) = server.receive_data(cmpp.encode(connect_request(version), version), 0.0)
    data = server.send(connect.response(status=0, version=version.value), 0.0)
    assert len(data) == (30 if version is V.V20 else 33)  # CMPP 2.0 §7.4.1.2 / 3.0 §8.4.1.2


def test_refused_connect_closes_the_connection():
    pair = make_pair()
    (connect,) = pair.client_sends(connect_request(V.V30))
    pair.server_sends(connect.response(status=cmpp.ConnectStatus.AUTHENTICATION, version=0x30))
    assert pair.server.closed and pair.client.closed
    assert pair.client_events[-2].status == 3


@pytest.mark.parametrize("version", list(V))
def test_submit_and_deliver_report(version):
    pair = connected_pair(version)
    (submit,) = pair.client_sends(cmpp.Submit(pk_total=1, pk_number=1, registered_delivery=1,
                                              msg_src="900001", src_id="10690001",
                                              dest_terminal_id=("13800138000",), msg_content=b"hello"))
    msg_id = cmpp.MsgId(month=11, day=29, hour=14, minute=0, second=0, gateway=1, sequence=1).compose()
    pair.server_sends(submit.response(msg_id=msg_id, result=0))
    resp = pair.client_events[-1]
    assert isinstance(resp, cmpp.SubmitResp) and resp.msg_id == msg_id
    report = cmpp.Report(msg_id=msg_id, stat="DELIVRD", submit_time="2611291400", done_time="2611291401",
                         dest_terminal_id="13800138000", smsc_sequence=1)
    (deliver,) = pair.server_sends(cmpp.Deliver(msg_id=msg_id + 1, dest_id="10690001", registered_delivery=1,
                                                src_terminal_id="13800138000",
                                                msg_content=cmpp.build_report(report, version)))
    assert deliver.report == report
    pair.client_sends(deliver.response(result=0))
    assert isinstance(pair.server_events[-1], cmpp.DeliverResp)


def test_active_test_after_idle_c_is_answered():
    pair = connected_pair()
    pair.advance(181)
    assert any(isinstance(e, KeepAliveAnswered) for e in pair.client_events + pair.server_events)


def test_no_answer_to_active_test_disconnects_after_n_tries():
    # CMPP 3.0 §7.1: ACTIVE_TEST after C=180 s idle, resend after T=60 s, give up after N=3 tries.
    pair = connected_pair()
    server = pair.server
    probes, events, now = [], [], 0.0
    while not server.closed and now < 10_000:
        now = server.next_timer()
        events += server.handle_timer(now)
        probes += decode_all(server.data_to_send(), V.V30)
    assert [type(p) for p in probes] == [cmpp.ActiveTest] * 3
    assert now == pytest.approx(180 + 3 * 60)
    assert isinstance(events[-1], Disconnect)


def test_submit_without_response_times_out():
    pair = connected_pair()
    pair.client_sends(cmpp.Submit(dest_terminal_id=("13800138000",)))
    pair.advance(61)
    assert [type(e.request) for e in pair.client_events if isinstance(e, ResponseTimeout)] == [cmpp.Submit]


def test_server_closes_a_connection_that_never_connects():
    server = CmppSession(role=Role.SERVER, now=0.0)
    assert isinstance(server.handle_timer(10.0)[-1], Disconnect)


@pytest.mark.parametrize("initiator", ["client", "server"])
def test_terminate_from_either_side_closes_both(initiator):
    pair = connected_pair()
    sends = pair.client_sends if initiator == "client" else pair.server_sends
    answers = pair.server_sends if initiator == "client" else pair.client_sends
    (terminate,) = sends(cmpp.Terminate())
    answers(terminate.response())
    assert pair.client.closed and pair.server.closed


def test_over_the_window_gets_result_8():
    pair = connected_pair(timing=dataclasses.replace(DEFAULT_SERVER_TIMING, peer_window=2))
    for _ in range(2):
        pair.client_sends(cmpp.Submit(dest_terminal_id=("13800138000",)))
    extra = pair.client_sends(cmpp.Submit(dest_terminal_id=("13800138000",)))
    assert [type(e) for e in extra] == [PeerViolation]
    resp = pair.client_events[-1]
    assert isinstance(resp, cmpp.SubmitResp) and resp.result == cmpp.SubmitResult.FLOW_CONTROL


def test_reused_sequence_id_is_result_3():
    server = connected_pair().server
    frame = cmpp.encode(cmpp.Submit(sequence_id=9, dest_terminal_id=("13800138000",)), V.V30)
    server.receive_data(frame, 0.0)
    events = server.receive_data(frame, 0.0)
    assert [e.kind for e in events] == [ViolationKind.DUPLICATE_SEQUENCE]
    (resp,) = decode_all(server.data_to_send(), V.V30)
    assert (resp.sequence_id, resp.result) == (9, cmpp.SubmitResult.DUPLICATE_SEQUENCE)


def test_sequence_wraps_without_zero():
    session = CmppSession(role=Role.CLIENT, now=0.0, first_sequence=0xFFFFFFFF)
    assert [session.next_sequence() for _ in range(2)] == [0xFFFFFFFF, 1]


def test_unknown_command_id_closes_the_connection():
    server = connected_pair().server
    events = server.receive_data((12).to_bytes(4, "big") + (0x77).to_bytes(4, "big") + (5).to_bytes(4, "big"),
                                 0.0)
    assert isinstance(events[-1], Disconnect) and server.closed


def test_bad_total_length_closes_without_answer():
    server = connected_pair().server
    events = server.receive_data((5000).to_bytes(4, "big") + bytes(8), 0.0)
    assert isinstance(events[-1], Disconnect) and server.data_to_send() == b""


def test_malformed_submit_body_is_answered_and_the_session_stays():
    server = connected_pair().server
    frame = cmpp.encode(cmpp.Submit(sequence_id=6, dest_terminal_id=("13800138000",), msg_content=b"abc"), V.V30)
    broken = (len(frame) - 10).to_bytes(4, "big") + frame[4:-10]
    events = server.receive_data(broken, 0.0)
    assert isinstance(events[0], PeerViolation) and events[0].answered
    (resp,) = decode_all(server.data_to_send(), V.V30)
    assert isinstance(resp, cmpp.SubmitResp) and resp.sequence_id == 6 and resp.result != 0
    assert server.state is CmppState.CONNECTED


def test_coalesced_connect_resp_and_deliver():
    client = CmppSession(role=Role.CLIENT, now=0.0, version=V.V30)
    client.send(dataclasses.replace(connect_request(V.V30), sequence_id=1), 0.0)
    segment = (cmpp.encode(cmpp.ConnectResp(sequence_id=1, status=0, version=0x30), V.V30)
               + cmpp.encode(cmpp.Deliver(sequence_id=9, msg_content=b"mo"), V.V30))
    events = client.receive_data(segment, 0.0)
    assert [type(e) for e in events] == [cmpp.ConnectResp, cmpp.Deliver]


# -- the sweep -------------------------------------------------------------------------------------------
# CMPP 3.0 §8.4: each command, the states it is legal in and who sends it, written out independently.
SPEC = {
    "CMPP_CONNECT": ({"OPEN"}, "SP"),
    "CMPP_TERMINATE": ({"CONNECTED", "TERMINATING"}, "both"),
    "CMPP_SUBMIT": ({"CONNECTED"}, "SP"),
    "CMPP_DELIVER": ({"CONNECTED"}, "ISMG"),
    "CMPP_QUERY": ({"CONNECTED"}, "SP"),
    "CMPP_CANCEL": ({"CONNECTED"}, "SP"),
    "CMPP_ACTIVE_TEST": ({"CONNECTED", "TERMINATING"}, "both"),
}
# Refusals with a result field: (response, field, value); the others can only be refused by closing.
REFUSALS = {
    "CMPP_SUBMIT": ("CMPP_SUBMIT_RESP", "result", 2),
    "CMPP_DELIVER": ("CMPP_DELIVER_RESP", "result", 2),
    "CMPP_CANCEL": ("CMPP_CANCEL_RESP", "success_id", 1),
    "CMPP_CONNECT": ("CMPP_CONNECT_RESP", "status", 5),
}
REQUESTS = {cls.command_name: cls for cls in cmpp.PDU_TYPES.values() if not cls.command_id & 0x80000000}
# The few fields a request cannot go without (a SUBMIT names at least one recipient).
REQUIRED = {"CMPP_SUBMIT": {"dest_terminal_id": ("13800138000",)}}


def test_sweep_covers_every_request():
    assert set(REQUESTS) == set(SPEC)


def session_in(state: str, role: Role) -> CmppSession:
    pair = connected_pair() if state != "OPEN" else make_pair()
    if state == "TERMINATING":
        (pair.client_sends if role is Role.CLIENT else pair.server_sends)(cmpp.Terminate())
        # The peer has the TERMINATE and has not answered yet: our side is TERMINATING.
    session = pair.server if role is Role.SERVER else pair.client
    session.data_to_send()
    return session


@pytest.mark.parametrize(("state", "command", "role"), list(itertools.product(
    ["OPEN", "CONNECTED", "TERMINATING"], sorted(SPEC), [Role.SERVER, Role.CLIENT])))
def test_state_sweep(state, command, role):
    session = session_in(state, role)
    assert session.state.value == state
    states, issuer = SPEC[command]
    peer = "SP" if role is Role.SERVER else "ISMG"
    request = REQUESTS[command](sequence_id=42, **REQUIRED.get(command, {}))
    events = session.receive_data(cmpp.encode(request, V.V30), 0.0)
    answer = decode_all(session.data_to_send(), V.V30)
    if state in states and issuer in (peer, "both"):
        if command == "CMPP_ACTIVE_TEST":
            assert answer == [cmpp.ActiveTestResp(sequence_id=42)]
        else:
            assert [type(e) for e in events] == [type(request)] and answer == []
        return
    if command == "CMPP_TERMINATE":  # leaving before connecting: answered, then closed
        assert answer == [cmpp.TerminateResp(sequence_id=42)] and session.closed
    elif command in REFUSALS:
        name, field, value = REFUSALS[command]
        (refusal,) = answer
        assert refusal.command_name == name and refusal.sequence_id == 42
        assert getattr(refusal, field) == value
        assert session.state.value == state
    else:
        assert answer == [] and session.closed and isinstance(events[-1], Disconnect)


def test_close_profile_closes_on_a_submit_before_connect():
    server = CmppSession(role=Role.SERVER, now=0.0, profile="close")
    submit = cmpp.Submit(sequence_id=3, dest_terminal_id=("13800138000",))
    events = server.receive_data(cmpp.encode(submit, V.V30), 0.0)
    assert server.closed and isinstance(events[-1], Disconnect) and server.data_to_send() == b""


def test_sending_a_deliver_as_sp_is_our_bug():
    client = connected_pair().client
    with pytest.raises(LocalProtocolError):
        client.send(cmpp.Deliver(), 0.0)
