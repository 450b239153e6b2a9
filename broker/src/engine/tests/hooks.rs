//! Hooks (see `engine::hooks`): the engine asks and goes on with everyone else; the answer
//! finishes the packet, and what the client sent meanwhile follows in order.

use super::*;

fn hooked(interest: Interest) -> Harness {
    let mut h = Harness::new();
    h.engine.set_interest(interest);
    h
}

/// The next question, which must be about `conn`.
fn question(h: &mut Harness, conn: ConnId) -> (u64, Question) {
    let (asked, id, question) = h.questions.pop_front().expect("a question");
    assert_eq!(asked, conn);
    (id, question)
}

fn answer(h: &mut Harness, conn: ConnId, id: u64, answer: Answer) {
    h.engine.answer(conn, id, answer, h.now);
    h.collect();
}

#[test]
fn a_connect_waits_for_the_hook_and_what_follows_it_waits_too() {
    let mut h = hooked(Interest {
        connect: true,
        ..Interest::default()
    });
    // The watcher is asked about too: let it in.
    let watcher = h.open(V5);
    h.send(
        watcher,
        Packet::Connect(Box::new(Connect::new(V5, "watcher"))),
    );
    let (id, _) = question(&mut h, watcher);
    answer(&mut h, watcher, id, Answer::Connect(ConnectVerdict::Ignore));
    assert!(matches!(h.recv(watcher), Some(Packet::ConnAck(_))));
    h.subscribe(watcher, "t", QoS::AtMostOnce);
    let conn = h.open(V5);
    let mut connect = Connect::new(V5, "device");
    connect.username = Some("dev".into());
    connect.password = Some(Bytes::from_static(b"pw"));
    h.send(conn, Packet::Connect(Box::new(connect)));
    // Pipelined after CONNECT, before CONNACK: kept until the answer.
    h.publish(conn, "t", "first", QoS::AtMostOnce, 0);
    assert!(h.recv(conn).is_none(), "nothing before the answer");
    assert!(h.paused.contains(&conn));
    let (id, q) = question(&mut h, conn);
    match q {
        Question::Connect {
            client, password, ..
        } => {
            assert_eq!(client.client_id, "device");
            assert_eq!(client.username.as_deref(), Some("dev"));
            assert_eq!(password.as_deref(), Some(&b"pw"[..]));
        }
        other => panic!("{other:?}"),
    }
    // Everyone else goes on meanwhile.
    h.publish(watcher, "t", "meanwhile", QoS::AtMostOnce, 0);
    assert_eq!(h.recv_publish(watcher).payload, "meanwhile");

    let verdict = ConnectVerdict::Allow {
        username: Some("device-user".into()),
    };
    answer(&mut h, conn, id, Answer::Connect(verdict));
    match h.recv(conn) {
        Some(Packet::ConnAck(ack)) => assert_eq!(ack.code, ReasonCode::SUCCESS),
        other => panic!("{other:?}"),
    }
    // Then the PUBLISH it sent before the answer, and the connection resumes.
    assert_eq!(h.recv_publish(watcher).payload, "first");
    assert!(!h.paused.contains(&conn));
    // A stale answer changes nothing.
    answer(
        &mut h,
        conn,
        id,
        Answer::Connect(ConnectVerdict::Deny(ReasonCode::BANNED)),
    );
    assert!(!h.is_closed(conn));
}

#[test]
fn a_hook_may_refuse_a_login_or_hand_it_on() {
    let mut h = hooked(Interest {
        connect: true,
        ..Interest::default()
    });
    h.engine.settings.failed_login_delay = Duration::ZERO;
    let denied = h.open(V5);
    h.send(
        denied,
        Packet::Connect(Box::new(Connect::new(V5, "denied"))),
    );
    let (id, _) = question(&mut h, denied);
    answer(
        &mut h,
        denied,
        id,
        Answer::Connect(ConnectVerdict::Deny(ReasonCode::BANNED)),
    );
    h.advance(0);
    match h.recv(denied) {
        Some(Packet::ConnAck(ack)) => assert_eq!(ack.code, ReasonCode::BANNED),
        other => panic!("{other:?}"),
    }
    assert!(h.is_closed(denied));

    // "Not mine": the broker's own rule decides (anonymous allowed by default).
    let ignored = h.open(V5);
    h.send(
        ignored,
        Packet::Connect(Box::new(Connect::new(V5, "ignored"))),
    );
    let (id, _) = question(&mut h, ignored);
    answer(&mut h, ignored, id, Answer::Connect(ConnectVerdict::Ignore));
    match h.recv(ignored) {
        Some(Packet::ConnAck(ack)) => assert_eq!(ack.code, ReasonCode::SUCCESS),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_connection_that_closes_while_asked_about_takes_its_question_with_it() {
    let mut h = hooked(Interest {
        connect: true,
        ..Interest::default()
    });
    let conn = h.open(V5);
    h.send(conn, Packet::Connect(Box::new(Connect::new(V5, "gone"))));
    let (id, _) = question(&mut h, conn);
    h.input(conn, Input::Closed);
    assert!(h.is_closed(conn));
    answer(
        &mut h,
        conn,
        id,
        Answer::Connect(ConnectVerdict::Allow { username: None }),
    );
    assert!(h.recv(conn).is_none());
    assert_eq!(h.engine.session_count(), 0);
}

#[test]
fn enhanced_authentication_can_be_carried_by_a_hook() {
    let mut h = hooked(Interest {
        connect: true,
        ..Interest::default()
    });
    let conn = h.open(V5);
    let mut connect = Connect::new(V5, "enhanced");
    connect.properties = Properties::from(vec![Property::AuthenticationMethod("TOY".into())]);
    h.send(conn, Packet::Connect(Box::new(connect)));
    let (id, q) = question(&mut h, conn);
    assert!(matches!(q, Question::Connect { method: Some(m), .. } if m == "TOY"));
    let challenge = ConnectVerdict::Continue(Some(Bytes::from_static(b"nonce")));
    answer(&mut h, conn, id, Answer::Connect(challenge));
    match h.recv(conn) {
        Some(Packet::Auth(auth)) => {
            assert_eq!(auth.reason, ReasonCode::CONTINUE_AUTHENTICATION);
            assert!(auth
                .properties
                .iter()
                .any(|p| *p == Property::AuthenticationData(Bytes::from_static(b"nonce"))));
        }
        other => panic!("{other:?}"),
    }
    let reply = Auth {
        reason: ReasonCode::CONTINUE_AUTHENTICATION,
        properties: Properties::from(vec![
            Property::AuthenticationMethod("TOY".into()),
            Property::AuthenticationData(Bytes::from_static(b"signed nonce")),
        ]),
    };
    h.send(conn, Packet::Auth(reply));
    let (id, q) = question(&mut h, conn);
    match q {
        Question::Auth { method, data, .. } => {
            assert_eq!(method, "TOY");
            assert_eq!(data.as_deref(), Some(&b"signed nonce"[..]));
        }
        other => panic!("{other:?}"),
    }
    answer(
        &mut h,
        conn,
        id,
        Answer::Connect(ConnectVerdict::Allow { username: None }),
    );
    match h.recv(conn) {
        Some(Packet::ConnAck(ack)) => assert_eq!(ack.code, ReasonCode::SUCCESS),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_publish_hook_may_change_or_refuse_and_order_is_kept() {
    let mut h = hooked(Interest {
        publish: true,
        ..Interest::default()
    });
    let sub = h.client(V5, "sub");
    h.subscribe(sub, "#", QoS::AtLeastOnce);
    let publisher = h.client(V5, "pub");
    h.publish(publisher, "a", "one", QoS::AtLeastOnce, 1);
    // Sent while the first is asked about: waits behind it.
    h.publish(publisher, "b", "two", QoS::AtLeastOnce, 2);
    assert!(h.recv(sub).is_none());
    let (id, q) = question(&mut h, publisher);
    let Question::Publish { client, publish } = q else {
        panic!("{q:?}")
    };
    assert_eq!(client.client_id, "pub");
    assert_eq!(publish.payload, "one");
    let mut changed = publish.clone();
    changed.payload = Bytes::from_static(b"ONE");
    changed.properties.push(Property::user("checked", "yes"));
    changed.qos = QoS::AtMostOnce; // ignored: the client's exchange stays QoS 1
    answer(
        &mut h,
        publisher,
        id,
        Answer::Publish(PublishVerdict::Replace(changed)),
    );
    let got = h.recv_publish(sub);
    assert_eq!(got.payload, "ONE");
    assert_eq!(got.qos, QoS::AtLeastOnce);
    assert!(got
        .properties
        .iter()
        .any(|p| *p == Property::user("checked", "yes")));
    match h.recv(publisher) {
        Some(Packet::PubAck(a)) => {
            assert_eq!((a.packet_id, a.reason), (pid(1), ReasonCode::SUCCESS))
        }
        other => panic!("{other:?}"),
    }
    // The second is asked about only now, and refused: 5.0 hears why.
    let (id, q) = question(&mut h, publisher);
    assert!(matches!(&q, Question::Publish { publish, .. } if publish.payload == "two"));
    answer(
        &mut h,
        publisher,
        id,
        Answer::Publish(PublishVerdict::Refuse(ReasonCode::PAYLOAD_FORMAT_INVALID)),
    );
    match h.recv(publisher) {
        Some(Packet::PubAck(a)) => assert_eq!(
            (a.packet_id, a.reason),
            (pid(2), ReasonCode::PAYLOAD_FORMAT_INVALID)
        ),
        other => panic!("{other:?}"),
    }
    assert!(h.recv(sub).is_none(), "a refused message is not routed");
    assert!(!h.paused.contains(&publisher));
}

#[test]
fn acknowledgements_of_deliveries_do_not_wait_for_an_answer() {
    let mut h = hooked(Interest {
        publish: true,
        ..Interest::default()
    });
    let both = h.client(V5, "both");
    h.subscribe(both, "in", QoS::AtLeastOnce);
    let other = h.client(V5, "other");
    h.publish(other, "in", "x", QoS::AtLeastOnce, 1);
    let (id, _) = question(&mut h, other);
    answer(&mut h, other, id, Answer::Publish(PublishVerdict::Allow));
    let delivery = h.recv_publish(both);
    // `both` publishes (asked about), then acknowledges its delivery: the PUBACK goes ahead.
    h.publish(both, "elsewhere", "y", QoS::AtMostOnce, 0);
    let _question = question(&mut h, both);
    let inflight = h.engine.snapshot(h.now).inflight;
    h.send(both, Packet::PubAck(Ack::new(delivery.packet_id.unwrap())));
    assert_eq!(h.engine.snapshot(h.now).inflight, inflight - 1);
}

#[test]
fn a_subscribe_hook_refuses_filters_one_by_one() {
    let mut h = hooked(Interest {
        subscribe: true,
        ..Interest::default()
    });
    let conn = h.client(V311, "c");
    h.send(
        conn,
        Packet::Subscribe(Subscribe {
            packet_id: pid(7),
            properties: Properties::new(),
            filters: vec![
                (
                    TopicFilter::new("ok/#").unwrap(),
                    SubscriptionOptions::qos(QoS::AtLeastOnce),
                ),
                (
                    TopicFilter::new("secret/#").unwrap(),
                    SubscriptionOptions::qos(QoS::AtLeastOnce),
                ),
            ],
        }),
    );
    let (id, q) = question(&mut h, conn);
    let Question::Subscribe { filters, .. } = q else {
        panic!("{q:?}")
    };
    assert_eq!(filters.len(), 2);
    let refusals = vec![None, Some(ReasonCode::NOT_AUTHORIZED)];
    answer(&mut h, conn, id, Answer::Subscribe(refusals));
    match h.recv(conn) {
        // 3.1.1: granted QoS 1, then 0x80 Failure.
        Some(Packet::SubAck(ack)) => {
            assert_eq!(ack.packet_id, pid(7));
            assert_eq!(ack.reasons.len(), 2);
            assert_eq!(ack.reasons[0], ReasonCode(1));
            assert!(ack.reasons[1].is_error());
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn notices_tell_of_sessions_wills_retained_messages_and_deliveries() {
    let mut h = hooked(Interest {
        events: true,
        deliveries: true,
        ..Interest::default()
    });
    let sub = h.client(V5, "sub");
    h.subscribe(sub, "r", QoS::AtMostOnce);
    let mut connect = Connect::new(V5, "mortal");
    connect.will = Some(Will {
        qos: QoS::AtMostOnce,
        retain: false,
        properties: Properties::new(),
        topic: TopicName::new("r").unwrap(),
        payload: Bytes::from_static(b"bye"),
    });
    let (mortal, _) = h.connect_with(connect);
    let mut retained = Publish::new(TopicName::new("r").unwrap(), Bytes::from_static(b"kept"));
    retained.retain = true;
    h.send(mortal, Packet::Publish(retained));
    h.input(mortal, Input::Closed);
    let n = &h.notices;
    let created = |id: &str| {
        n.contains(&Notice::SessionCreated {
            client_id: id.into(),
        })
    };
    assert!(created("sub") && created("mortal"), "{n:?}");
    assert!(
        n.contains(&Notice::RetainedStored { topic: "r".into() }),
        "{n:?}"
    );
    assert!(
        n.contains(&Notice::WillPublished {
            client_id: "mortal".into(),
            topic: "r".into()
        }),
        "{n:?}"
    );
    assert!(
        n.contains(&Notice::SessionEnded {
            client_id: "mortal".into()
        }),
        "{n:?}"
    );
    let delivered = n
        .iter()
        .filter(|x| matches!(x, Notice::Delivered { client_id, .. } if client_id == "sub"))
        .count();
    assert_eq!(delivered, 2, "the retained message and the will: {n:?}");
}

#[test]
fn without_hooks_nothing_is_asked_or_told() {
    let mut h = Harness::new();
    let sub = h.client(V5, "sub");
    h.subscribe(sub, "t", QoS::AtLeastOnce);
    let publisher = h.client(V5, "pub");
    h.publish(publisher, "t", "x", QoS::AtLeastOnce, 1);
    assert_eq!(h.recv_publish(sub).payload, "x");
    assert!(h.questions.is_empty() && h.notices.is_empty());
}

#[test]
fn a_hook_carries_a_reauthentication_and_may_fail_it() {
    let mut h = hooked(Interest {
        connect: true,
        ..Interest::default()
    });
    let toy = |reason, data: &'static [u8]| {
        Packet::Auth(Auth {
            reason,
            properties: Properties::from(vec![
                Property::AuthenticationMethod("TOY".into()),
                Property::AuthenticationData(Bytes::from_static(data)),
            ]),
        })
    };
    let login = |h: &mut Harness, id: &str| {
        let conn = h.open(V5);
        let mut connect = Connect::new(V5, id);
        connect.username = Some("ann".into());
        connect.properties = Properties::from(vec![Property::AuthenticationMethod("TOY".into())]);
        h.send(conn, Packet::Connect(Box::new(connect)));
        let (qid, _) = question(h, conn);
        answer(
            h,
            conn,
            qid,
            Answer::Connect(ConnectVerdict::Allow { username: None }),
        );
        match h.recv(conn) {
            // The method of the CONNECT, in the CONNACK of an exchange a hook carried
            // [MQTT-4.12.0-5].
            Some(Packet::ConnAck(ack)) => assert_eq!(
                ack.properties.get(PropertyId::AuthenticationMethod),
                Some(&Property::AuthenticationMethod("TOY".into()))
            ),
            other => panic!("{other:?}"),
        }
        conn
    };

    // Challenge, answer, success.
    let conn = login(&mut h, "r1");
    h.send(conn, toy(ReasonCode::RE_AUTHENTICATE, b"hello"));
    let (id, q) = question(&mut h, conn);
    match q {
        Question::Reauth {
            client,
            method,
            data,
        } => {
            assert_eq!(client.username.as_deref(), Some("ann"));
            assert_eq!(method, "TOY");
            assert_eq!(data.as_deref(), Some(&b"hello"[..]));
        }
        other => panic!("{other:?}"),
    }
    let challenge = ConnectVerdict::Continue(Some(Bytes::from_static(b"nonce")));
    answer(&mut h, conn, id, Answer::Connect(challenge));
    assert!(
        matches!(h.recv(conn), Some(Packet::Auth(a)) if a.reason == ReasonCode::CONTINUE_AUTHENTICATION)
    );
    h.send(conn, toy(ReasonCode::CONTINUE_AUTHENTICATION, b"signed"));
    let (id, q) = question(&mut h, conn);
    assert!(matches!(q, Question::Auth { .. }), "{q:?}");
    answer(
        &mut h,
        conn,
        id,
        Answer::Connect(ConnectVerdict::Allow { username: None }),
    );
    match h.recv(conn) {
        Some(Packet::Auth(a)) => {
            assert_eq!(a.reason, ReasonCode::SUCCESS);
            assert_eq!(
                a.properties.get(PropertyId::AuthenticationMethod),
                Some(&Property::AuthenticationMethod("TOY".into()))
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(!h.is_closed(conn));

    // A refusal, and credentials that prove another user: DISCONNECT 0x87.
    for verdict in [
        ConnectVerdict::Deny(ReasonCode::SERVER_UNAVAILABLE),
        ConnectVerdict::Allow {
            username: Some("mallory".into()),
        },
    ] {
        let conn = login(&mut h, "r2");
        h.send(conn, toy(ReasonCode::RE_AUTHENTICATE, b"hello"));
        let (id, _) = question(&mut h, conn);
        answer(&mut h, conn, id, Answer::Connect(verdict));
        assert_eq!(disconnect_reason(h.recv(conn)), ReasonCode::NOT_AUTHORIZED);
        assert!(h.is_closed(conn));
    }
}

#[test]
fn a_3x_publish_nobody_decided_about_is_not_acknowledged_but_closed() {
    let mut h = hooked(Interest {
        publish: true,
        ..Interest::default()
    });
    // A refusal: 3.x gets the normal acknowledgement [MQTT-3.3.5-2], 5.0 the code.
    // No decision (0x80, a hook's deadline or a source that did not answer): 5.0 hears 0x80,
    // 3.x is closed without PUBACK, so that it sends the message again.
    for (protocol, code, acknowledged) in [
        (V311, ReasonCode::NOT_AUTHORIZED, Some(ReasonCode::SUCCESS)),
        (
            V5,
            ReasonCode::UNSPECIFIED_ERROR,
            Some(ReasonCode::UNSPECIFIED_ERROR),
        ),
        (V311, ReasonCode::UNSPECIFIED_ERROR, None),
    ] {
        let publisher = h.client(protocol, "pub");
        h.publish(publisher, "a", "x", QoS::AtLeastOnce, 1);
        let (id, _) = question(&mut h, publisher);
        answer(
            &mut h,
            publisher,
            id,
            Answer::Publish(PublishVerdict::Refuse(code)),
        );
        match (h.recv(publisher), acknowledged) {
            (Some(Packet::PubAck(a)), Some(reason)) => assert_eq!(a.reason, reason),
            (None, None) => assert!(h.is_closed(publisher)),
            (other, _) => panic!("{protocol:?} {code:?}: {other:?}"),
        }
    }
    assert_eq!(h.engine.stats().undecided_closed, 1);
}
