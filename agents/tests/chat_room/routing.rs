//! Routing: every member event reaches every other member and the front
//! end, never its sender; member ids are unique.

use crate::support::*;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::time::timeout;
use understudy_agents::realtime::AgentEvent;
use understudy_agents::room::{ChatRoom, Delivery, FrontEndEvent, RoomEvent};

#[tokio::test]
async fn every_event_reaches_everyone_but_its_sender() {
    let names = ["a", "b", "c"];
    let (doubles, probes): (Vec<_>, Vec<_>) = names.iter().map(|n| Double::new(n)).unzip();
    let mut room = build(&names, doubles).start().unwrap();
    let front = [
        FrontEndEvent::Text("hello room".into()),
        FrontEndEvent::Audio {
            pcm: vec![2; 320],
            sample_rate: 16_000,
        },
        FrontEndEvent::Commit,
        FrontEndEvent::Interrupt,
    ];
    for event in &front {
        room.input().send(event.clone()).await.unwrap();
    }
    for (name, probe) in names.iter().zip(&probes) {
        for event in every_kind(name) {
            probe.say(event);
        }
    }
    let per_member = every_kind("x").len();
    let mut heard = Vec::new();
    while heard.len() < names.len() * per_member {
        let event = timeout(Duration::from_secs(10), room.next_event())
            .await
            .expect("the front end hears every member event")
            .unwrap();
        match event {
            RoomEvent::Member { member, event } => heard.push((member, event)),
            other => panic!("only member events expected, got {other:?}"),
        }
    }
    let expected_each = front.len() + (names.len() - 1) * per_member;
    wait_for("every member hears everything", || {
        probes.iter().all(|p| p.count() == expected_each)
    })
    .await;

    // The front end: every member's events, each sender's in its order, and
    // nothing of its own echoed.
    for name in names {
        let from: Vec<&AgentEvent> = heard
            .iter()
            .filter(|(m, _)| *m == name)
            .map(|(_, e)| e)
            .collect();
        assert_eq!(from, every_kind(name).iter().collect::<Vec<_>>(), "{name}");
    }
    // Every member: every front-end event in order, every other member's
    // events in each sender's order, never its own — checked for every
    // (sender, receiver) pair.
    for (receiver, probe) in names.iter().zip(&probes) {
        let got = probe.received();
        let from_front: Vec<&FrontEndEvent> = got
            .iter()
            .filter_map(|d| match d {
                Delivery::FrontEnd(e) => Some(e),
                _ => None,
            })
            .collect();
        assert_eq!(from_front, front.iter().collect::<Vec<_>>(), "{receiver}");
        for sender in names {
            let from: Vec<AgentEvent> = got
                .iter()
                .filter_map(|d| match d {
                    Delivery::Peer { from, event } if *from == sender => Some(event.clone()),
                    _ => None,
                })
                .collect();
            if sender == *receiver {
                assert!(from.is_empty(), "{receiver} heard itself: {from:?}");
            } else {
                assert_eq!(from, every_kind(sender), "{sender} → {receiver}");
            }
        }
        assert!(
            !got.iter().any(|d| matches!(d, Delivery::Turn(_))),
            "no turn-taking configured"
        );
    }
    let rest = room.close().await;
    assert_eq!(rest.last(), Some(&RoomEvent::Closed));
    assert!(probes.iter().all(|p| p.closed.load(Ordering::SeqCst)));
}

#[tokio::test]
async fn duplicate_member_ids_are_refused() {
    let (a, _) = Double::new("a");
    let (b, _) = Double::new("a");
    let err = ChatRoom::builder()
        .member("a", a)
        .member("a", b)
        .start()
        .unwrap_err();
    assert!(err.to_string().contains("two members are called a"));
}
