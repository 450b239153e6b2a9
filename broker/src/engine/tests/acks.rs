//! Every acknowledgement in every state of a QoS 1 and QoS 2 exchange, as a table: what the
//! client has in flight from the server (or the server from the client), the packet it
//! sends, with the identifier of that exchange or an unknown one, and what the engine
//! answers. The same table, row by row, is `conformance/features/acks_by_state.feature`.

use super::*;

/// Where the exchange with packet identifier `ID` stands when the client acknowledges.
#[derive(Clone, Copy, Debug)]
enum State {
    /// Nothing in flight either way.
    Idle,
    /// The server sent a QoS 1 PUBLISH.
    AwaitingPuback,
    /// The server sent a QoS 2 PUBLISH.
    AwaitingPubrec,
    /// The server answered the client's PUBREC with PUBREL.
    AwaitingPubcomp,
    /// The client sent a QoS 2 PUBLISH, and the server PUBREC.
    AwaitingPubrel,
}

/// What the engine does.
#[derive(Debug, PartialEq, Eq)]
enum Said {
    /// Nothing, and the connection stays.
    Nothing,
    /// This packet (reason 0x00 or, in 5.0, the one given) and the connection stays.
    Reply(PacketType, ReasonCode),
    /// Protocol Error: DISCONNECT 0x82 in 5.0, the close alone in 3.1.1.
    ProtocolError,
}

use self::Said::{Nothing, ProtocolError, Reply};
use PacketType::{PubAck, PubComp, PubRec, PubRel};

const NOT_FOUND: ReasonCode = ReasonCode::PACKET_IDENTIFIER_NOT_FOUND;
const OK: ReasonCode = ReasonCode::SUCCESS;

/// Sets `state` up between a publisher and the client `a`; the identifier of the exchange.
fn set_up(h: &mut Harness, protocol: Protocol, state: State) -> (ConnId, u16) {
    let a = h.client(protocol, "a");
    let p = h.client(V5, "p");
    let outbound = |h: &mut Harness, qos| {
        h.subscribe(a, "t", qos);
        h.publish(p, "t", "x", qos, 1);
        h.recv_all(p);
        h.recv_publish(a).packet_id.expect("QoS 1 or 2").get()
    };
    let id = match state {
        State::Idle => 1,
        State::AwaitingPuback => outbound(h, QoS::AtLeastOnce),
        State::AwaitingPubrec => outbound(h, QoS::ExactlyOnce),
        State::AwaitingPubcomp => {
            let id = outbound(h, QoS::ExactlyOnce);
            h.send(a, Packet::PubRec(Ack::new(pid(id))));
            assert!(matches!(h.recv(a), Some(Packet::PubRel(_))));
            id
        }
        State::AwaitingPubrel => {
            h.publish(a, "elsewhere", "x", QoS::ExactlyOnce, 1);
            assert!(matches!(h.recv(a), Some(Packet::PubRec(_))));
            1
        }
    };
    assert!(h.recv(a).is_none());
    (a, id)
}

fn ack(kind: PacketType, id: u16) -> Packet {
    let ack = Ack::new(pid(id));
    match kind {
        PubAck => Packet::PubAck(ack),
        PubRec => Packet::PubRec(ack),
        PubRel => Packet::PubRel(ack),
        PubComp => Packet::PubComp(ack),
        other => unreachable!("{other:?}"),
    }
}

/// (state, packet, with the exchange's identifier (else an unknown one), answer).
const TABLE: &[(State, PacketType, bool, Said)] = &[
    (State::Idle, PubAck, false, Nothing),
    (State::Idle, PubRec, false, Reply(PubRel, NOT_FOUND)),
    (State::Idle, PubRel, false, Reply(PubComp, NOT_FOUND)),
    (State::Idle, PubComp, false, Nothing),
    (State::AwaitingPuback, PubAck, true, Nothing),
    (State::AwaitingPuback, PubRec, true, ProtocolError),
    // PUBREL is about the client's own PUBLISHes: an identifier space of its own.
    (
        State::AwaitingPuback,
        PubRel,
        true,
        Reply(PubComp, NOT_FOUND),
    ),
    (State::AwaitingPuback, PubComp, true, ProtocolError),
    (State::AwaitingPuback, PubAck, false, Nothing),
    (
        State::AwaitingPuback,
        PubRec,
        false,
        Reply(PubRel, NOT_FOUND),
    ),
    (State::AwaitingPuback, PubComp, false, Nothing),
    (State::AwaitingPubrec, PubAck, true, ProtocolError),
    (State::AwaitingPubrec, PubRec, true, Reply(PubRel, OK)),
    (
        State::AwaitingPubrec,
        PubRel,
        true,
        Reply(PubComp, NOT_FOUND),
    ),
    (State::AwaitingPubrec, PubComp, true, ProtocolError),
    (State::AwaitingPubrec, PubAck, false, Nothing),
    (
        State::AwaitingPubrec,
        PubRec,
        false,
        Reply(PubRel, NOT_FOUND),
    ),
    (State::AwaitingPubrec, PubComp, false, Nothing),
    (State::AwaitingPubcomp, PubAck, true, ProtocolError),
    // A repeated PUBREC gets its PUBREL again [MQTT-4.3.3-4].
    (State::AwaitingPubcomp, PubRec, true, Reply(PubRel, OK)),
    (
        State::AwaitingPubcomp,
        PubRel,
        true,
        Reply(PubComp, NOT_FOUND),
    ),
    (State::AwaitingPubcomp, PubComp, true, Nothing),
    (State::AwaitingPubcomp, PubAck, false, Nothing),
    (
        State::AwaitingPubcomp,
        PubRec,
        false,
        Reply(PubRel, NOT_FOUND),
    ),
    (State::AwaitingPubcomp, PubComp, false, Nothing),
    // The client's QoS 2 PUBLISH: PUBACK, PUBREC and PUBCOMP name the server's PUBLISHes,
    // of which there is none.
    (State::AwaitingPubrel, PubAck, true, Nothing),
    (
        State::AwaitingPubrel,
        PubRec,
        true,
        Reply(PubRel, NOT_FOUND),
    ),
    (State::AwaitingPubrel, PubRel, true, Reply(PubComp, OK)),
    (State::AwaitingPubrel, PubComp, true, Nothing),
    (
        State::AwaitingPubrel,
        PubRel,
        false,
        Reply(PubComp, NOT_FOUND),
    ), // PUBREL with an identifier the client used for nothing, in the states that lacked it;
    // and the server's identifiers, unknown, while the client's QoS 2 PUBLISH waits.
    (
        State::AwaitingPuback,
        PubRel,
        false,
        Reply(PubComp, NOT_FOUND),
    ),
    (
        State::AwaitingPubrec,
        PubRel,
        false,
        Reply(PubComp, NOT_FOUND),
    ),
    (
        State::AwaitingPubcomp,
        PubRel,
        false,
        Reply(PubComp, NOT_FOUND),
    ),
    (State::AwaitingPubrel, PubAck, false, Nothing),
    (
        State::AwaitingPubrel,
        PubRec,
        false,
        Reply(PubRel, NOT_FOUND),
    ),
    (State::AwaitingPubrel, PubComp, false, Nothing),
];

#[test]
fn every_acknowledgement_in_every_state() {
    for protocol in [V5, V311] {
        for (state, kind, known, answer) in TABLE {
            let row = format!("{protocol:?} {state:?} {kind:?} known={known}");
            let mut h = Harness::new();
            let (a, id) = set_up(&mut h, protocol, *state);
            let sent = if *known { id } else { 777 };
            h.send(a, ack(*kind, sent));
            let got = match h.recv(a) {
                // 3.1.1 has no DISCONNECT from the server: the close says it.
                None if h.is_closed(a) && protocol == V311 => ProtocolError,
                None if h.is_closed(a) => panic!("{row}: closed without DISCONNECT"),
                None => Nothing,
                Some(Packet::Disconnect(d)) if d.reason == ReasonCode::PROTOCOL_ERROR => {
                    assert!(h.is_closed(a), "{row}: DISCONNECT without the close");
                    ProtocolError
                }
                Some(Packet::PubRel(r)) => {
                    assert_eq!(r.packet_id.get(), sent, "{row}");
                    Reply(PubRel, r.reason)
                }
                Some(Packet::PubComp(r)) => {
                    assert_eq!(r.packet_id.get(), sent, "{row}");
                    Reply(PubComp, r.reason)
                }
                Some(other) => panic!("{row}: {other:?}"),
            };
            match (protocol, answer) {
                // 3.1.1 has no reason codes.
                (V311, Reply(kind, _)) => assert_eq!(got, Reply(*kind, OK), "{row}"),
                (_, answer) => assert_eq!(&got, answer, "{row}"),
            }
            if !matches!(answer, ProtocolError) {
                assert!(!h.is_closed(a), "{row}: closed");
            }
        }
    }
}
