//! Turn-taking: round robin, a moderator, silence passing the turn on, and
//! speech out of turn cut off and withheld.

use crate::support::*;
use understudy_agents::realtime::AgentEvent;
use understudy_agents::room::{
    ChatRoom, Delivery, Moderator, OverflowPolicy, RoomEvent, RoundRobin, TurnEndReason, TurnSignal,
};

#[tokio::test]
async fn round_robin_gives_the_floor_in_join_order() {
    let names = ["a", "b", "c"];
    let (doubles, probes): (Vec<_>, Vec<_>) = names
        .iter()
        .map(|n| {
            let (d, p) = Double::new(n);
            (d.speaking(&[]), p)
        })
        .unzip();
    let mut room = build(&names, doubles)
        .config(config(256, OverflowPolicy::DropOldest, 60_000))
        .turns(RoundRobin::new())
        .start()
        .unwrap();
    room.input().commit().await.unwrap();
    let events = until(&mut room, 10, count_turns(6)).await;
    assert_eq!(
        turns_of(&events),
        finished(&["a", "b", "c", "a", "b", "c"]),
        "{}",
        brief(&events)
    );
    // Each holder's audio reached the two others, never itself.
    let _ = room.close().await;
    for (name, probe) in names.iter().zip(&probes) {
        assert!(probe.grants() >= 2, "{name}");
        let audio_from: Vec<String> = probe
            .received()
            .iter()
            .filter_map(|d| match d {
                Delivery::Peer {
                    from,
                    event: AgentEvent::Audio { .. },
                } => Some(from.to_string()),
                _ => None,
            })
            .collect();
        assert!(!audio_from.iter().any(|f| f == name), "{name} heard itself");
        for other in names.iter().filter(|o| *o != name) {
            assert!(
                audio_from.iter().filter(|f| f == other).count() >= 2,
                "{name} heard {other} twice: {audio_from:?}"
            );
        }
    }
}

#[tokio::test]
async fn round_robin_follows_a_given_order() {
    let names = ["a", "b", "c"];
    let doubles = names
        .iter()
        .map(|n| Double::new(n).0.speaking(&[]))
        .collect();
    let mut room = build(&names, doubles)
        .config(config(256, OverflowPolicy::DropOldest, 60_000))
        .turns(RoundRobin::with_order(["c", "a", "b"]))
        .start()
        .unwrap();
    room.input().commit().await.unwrap();
    let events = until(&mut room, 10, count_turns(4)).await;
    assert_eq!(turns_of(&events), finished(&["c", "a", "b", "c"]));
    room.close().await;
}

#[tokio::test]
async fn the_moderator_names_who_speaks_next() {
    let names = ["host", "alice", "bob", "carol"];
    let host_lines = [
        "Welcome. Carol, you open.",
        "Thank you. Bob, a reply?",
        "Good. Now Alice, please, then carol again.",
        "And that is all.",
    ];
    let mut doubles = vec![Double::new("host").0.speaking(&host_lines)];
    doubles.extend(
        names[1..]
            .iter()
            .map(|n| Double::new(n).0.speaking(&["I think Host is right."])),
    );
    let mut room = build(&names, doubles)
        .config(config(256, OverflowPolicy::DropOldest, 60_000))
        .turns(Moderator::new("host"))
        .start()
        .unwrap();
    room.input().commit().await.unwrap();
    let events = until(&mut room, 10, count_turns(8)).await;
    assert_eq!(
        turns_of(&events),
        // Named: carol, bob, alice (the earliest mention: "Alice … then
        // carol"). Naming nobody, the floor goes to the participant after
        // the last one who spoke, alice: bob.
        finished(&["host", "carol", "host", "bob", "host", "alice", "host", "bob"]),
        "{}",
        brief(&events)
    );
    room.close().await;
}

#[tokio::test]
async fn silence_passes_the_turn_on() {
    let (quiet, pq) = Double::new("quiet");
    let (talker, _) = Double::new("talker");
    let mut room = ChatRoom::builder()
        .config(config(256, OverflowPolicy::DropOldest, 150))
        .turns(RoundRobin::new())
        .member("quiet", quiet)
        .member("talker", talker.speaking(&["hello"]))
        .start()
        .unwrap();
    room.input().commit().await.unwrap();
    let events = until(&mut room, 10, count_turns(3)).await;
    assert_eq!(
        turns_of(&events),
        [
            ("quiet".to_string(), TurnEndReason::SilenceTimeout),
            ("talker".to_string(), TurnEndReason::Finished),
            ("quiet".to_string(), TurnEndReason::SilenceTimeout),
        ]
    );
    room.close().await;
    // The silent member was told its turn was over, and why.
    assert!(pq.received().contains(&Delivery::Turn(TurnSignal::Ended {
        turn: 1,
        reason: TurnEndReason::SilenceTimeout
    })));
}

#[tokio::test]
async fn speech_out_of_turn_is_cut_off_and_withheld() {
    let (holder, _) = Double::new("holder");
    let (eager, pe) = Double::new("eager");
    let (listener, pl) = Double::new("listener");
    let mut room = ChatRoom::builder()
        .config(config(256, OverflowPolicy::DropOldest, 60_000))
        .turns(RoundRobin::new())
        .member("holder", holder)
        .member("eager", eager)
        .member("listener", listener)
        .start()
        .unwrap();
    room.input().commit().await.unwrap();
    until(&mut room, 10, |e| {
        matches!(e, RoomEvent::TurnStarted { .. })
    })
    .await;
    for event in speech("e1", "me first!") {
        pe.say(event);
    }
    // A non-speech event after it, to know the speech was processed.
    pe.say(AgentEvent::UserTranscript {
        item_id: "u".into(),
        text: "marker".into(),
    });
    let events = until(&mut room, 10, |e| {
        matches!(
            e,
            RoomEvent::Member {
                event: AgentEvent::UserTranscript { .. },
                ..
            }
        )
    })
    .await;
    let out: Vec<&RoomEvent> = events
        .iter()
        .filter(|e| !matches!(e, RoomEvent::TurnStarted { .. }))
        .collect();
    assert_eq!(
        out,
        [
            &RoomEvent::OutOfTurn {
                member: "eager".into(),
                response_id: "e1".into()
            },
            &RoomEvent::Member {
                member: "eager".into(),
                event: AgentEvent::UserTranscript {
                    item_id: "u".into(),
                    text: "marker".into()
                }
            }
        ]
    );
    wait_for("the listener hears the marker", || pl.count() == 2).await;
    assert!(
        !pl.received()
            .iter()
            .any(|d| matches!(d, Delivery::Peer { event, .. } if !matches!(event, AgentEvent::UserTranscript { .. }))),
        "none of the out-of-turn speech reached a peer: {:?}",
        pl.received()
    );
    wait_for("eager is told to stop", || {
        pe.received()
            .contains(&Delivery::Turn(TurnSignal::StopSpeaking {
                response_id: "e1".into(),
            }))
    })
    .await;
    room.close().await;
}
