//! Overflow: a stuck member does not delay the others, and its queue
//! overflows the way the policy says (drop oldest, drop newest, disconnect).

use crate::support::*;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::time::timeout;
use understudy_agents::realtime::AgentEvent;
use understudy_agents::room::{ChatRoom, Delivery, OverflowPolicy, RoomEvent};

/// Member c is held on its first delivery; a says 20 things. b and the front
/// end get all 20 while c is still held; c's overflow is reported; released,
/// c gets what the policy kept.
async fn stuck_member(policy: OverflowPolicy) {
    const CAPACITY: usize = 4;
    const SAID: usize = 20;
    let gate = Arc::new(Semaphore::new(0));
    let (a, pa) = Double::new("a");
    let (b, pb) = Double::new("b");
    let (c, pc) = Double::new("c");
    let c = c.held_by(Arc::clone(&gate));
    let mut room = ChatRoom::builder()
        .config(config(CAPACITY, policy, 60_000))
        .member("a", a)
        .member("b", b)
        .member("c", c)
        .start()
        .unwrap();
    room.input().text("first").await.unwrap();
    wait_for("c is holding its first delivery", || {
        pc.entered.load(Ordering::SeqCst) == 1
    })
    .await;

    // a speaks at b's pace (b takes each before a says the next: a healthy
    // member's queue never fills), so anything lost is c's alone.
    let mut said = 0;
    let mut overflows = Vec::new();
    let mut left = Vec::new();
    for i in 0..SAID {
        pa.say(transcript("a", &i.to_string()));
        wait_for("b keeps up while c is held", || pb.count() == 2 + i).await;
    }
    // The front end heard all of them, with c's overflows reported as they
    // happened.
    while said < SAID {
        match timeout(Duration::from_secs(10), room.next_event())
            .await
            .expect("the front end is not held up by c")
            .unwrap()
        {
            RoomEvent::Member { member, event } => {
                if member == "c" {
                    // Disconnected, c was closed; its last words still
                    // reach the front end.
                    assert_eq!(policy, OverflowPolicy::Disconnect);
                    assert!(matches!(event, AgentEvent::Closed { .. }), "{event:?}");
                    continue;
                }
                assert_eq!(member, "a");
                said += 1;
            }
            RoomEvent::Overflow {
                member,
                policy: p,
                dropped_total,
            } => {
                assert_eq!((member.as_str(), p), ("c", policy));
                overflows.push(dropped_total);
            }
            RoomEvent::MemberLeft { member, reason } => left.push((member, reason)),
            other => panic!("unexpected {other:?}"),
        }
    }
    // b got the front-end text and all 20, in order, while c is still held.
    wait_for("b hears everything", || pb.count() == 1 + SAID).await;
    assert_eq!(pc.entered.load(Ordering::SeqCst), 1, "c is still held");
    assert_eq!(pc.count(), 0);
    let b_heard: Vec<String> = pb.received()[1..]
        .iter()
        .map(|d| match d {
            Delivery::Peer {
                event: AgentEvent::TranscriptDelta { delta, .. },
                ..
            } => delta.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        b_heard,
        (0..SAID).map(|i| i.to_string()).collect::<Vec<_>>()
    );
    assert!(pa.count() == 1, "a hears the front end, never itself");

    let deltas = |probe: &Probe| -> Vec<String> {
        probe
            .received()
            .iter()
            .filter_map(|d| match d {
                Delivery::Peer {
                    event: AgentEvent::TranscriptDelta { delta, .. },
                    ..
                } => Some(delta.clone()),
                _ => None,
            })
            .collect()
    };
    match policy {
        OverflowPolicy::DropOldest | OverflowPolicy::DropNewest => {
            // c's queue holds CAPACITY; every later delivery overflowed once.
            let expected: Vec<u64> = (1..=(SAID - CAPACITY) as u64).collect();
            assert_eq!(overflows, expected);
            assert!(left.is_empty());
            gate.add_permits(1_000);
            wait_for("c drains its queue", || pc.count() == 1 + CAPACITY).await;
            let kept: Vec<usize> = if policy == OverflowPolicy::DropOldest {
                (SAID - CAPACITY..SAID).collect()
            } else {
                (0..CAPACITY).collect()
            };
            assert_eq!(
                deltas(&pc),
                kept.iter().map(|i| i.to_string()).collect::<Vec<_>>()
            );
            // c is still a member: it hears what comes next.
            pb.say(transcript("b", "later"));
            wait_for("c hears b", || pc.count() == 2 + CAPACITY).await;
        }
        OverflowPolicy::Disconnect => {
            // One overflow (the queue and the new delivery lost), then c is
            // out of the room and closed.
            assert_eq!(overflows, [CAPACITY as u64 + 1]);
            assert_eq!(left.len(), 1, "{left:?}");
            assert_eq!(left[0].0, "c");
            assert!(left[0].1.contains("overflow"), "{}", left[0].1);
            wait_for("c is closed", || pc.closed.load(Ordering::SeqCst)).await;
            pb.say(transcript("b", "later"));
            wait_for("a hears b", || pa.count() == 2).await;
            gate.add_permits(1_000);
            tokio::task::yield_now().await;
            assert_eq!(pc.count(), 0, "c gets nothing once disconnected");
        }
    }
    let rest = room.close().await;
    assert_eq!(rest.last(), Some(&RoomEvent::Closed));
}

#[tokio::test]
async fn a_stuck_member_does_not_delay_the_others_drop_oldest() {
    stuck_member(OverflowPolicy::DropOldest).await;
}

#[tokio::test]
async fn a_stuck_member_does_not_delay_the_others_drop_newest() {
    stuck_member(OverflowPolicy::DropNewest).await;
}

#[tokio::test]
async fn a_stuck_member_does_not_delay_the_others_disconnect() {
    stuck_member(OverflowPolicy::Disconnect).await;
}
