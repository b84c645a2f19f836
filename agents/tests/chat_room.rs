//! The ChatRoom with test doubles (routing, overflow, turn-taking) and with
//! real RealtimeAgents on two providers against the in-process mock (a
//! debate).
//!
//! No assertion depends on how fast the machine is: a stuck member is held
//! by a semaphore the test owns, "not delayed" is shown by counting what the
//! others received while it is held, and every wait has a generous deadline.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, Semaphore};
use tokio::time::timeout;
use understudy_adapters::{dashscope, openai, Pcm, ResponseStatus, SessionConfig, TurnDetection};
use understudy_agents::realtime::{AgentConfig, AgentEvent, RealtimeAgent, ToolRegistry};
use understudy_agents::room::{
    ChatRoom, ChatRoomBuilder, Delivery, FrontEndEvent, Member, MemberFuture, MemberGone, MemberId,
    MemberSink, MemberSource, Moderator, OverflowPolicy, RealtimeMember, RoomConfig, RoomEvent,
    RoundRobin, TurnEndReason, TurnSignal,
};
use understudy_mock::{MockServer, ResponderConfig};

// ---- the test double --------------------------------------------------------------

/// The test's view of a double: what it was handed, and a way to make it
/// say things.
#[derive(Clone)]
struct Probe {
    received: Arc<Mutex<Vec<Delivery>>>,
    say: mpsc::UnboundedSender<AgentEvent>,
    /// Deliveries it started taking (a held one included).
    entered: Arc<AtomicUsize>,
    closed: Arc<AtomicBool>,
}

impl Probe {
    fn received(&self) -> Vec<Delivery> {
        self.received.lock().unwrap().clone()
    }

    fn count(&self) -> usize {
        self.received.lock().unwrap().len()
    }

    fn say(&self, event: AgentEvent) {
        self.say.send(event).unwrap();
    }

    fn grants(&self) -> usize {
        self.received()
            .iter()
            .filter(|d| matches!(d, Delivery::Turn(TurnSignal::Granted { .. })))
            .count()
    }
}

/// A member that records its deliveries; optionally held by a gate, and
/// optionally answering each grant with a scripted line of "speech".
struct Double {
    name: String,
    probe: Probe,
    events: mpsc::UnboundedReceiver<AgentEvent>,
    gate: Option<Arc<Semaphore>>,
    lines: Option<VecDeque<String>>,
}

impl Double {
    fn new(name: &str) -> (Double, Probe) {
        let (say, events) = mpsc::unbounded_channel();
        let probe = Probe {
            received: Arc::default(),
            say,
            entered: Arc::default(),
            closed: Arc::default(),
        };
        let double = Double {
            name: name.into(),
            probe: probe.clone(),
            events,
            gate: None,
            lines: None,
        };
        (double, probe)
    }

    /// Takes each delivery only when the gate gives a permit.
    fn held_by(mut self, gate: Arc<Semaphore>) -> Self {
        self.gate = Some(gate);
        self
    }

    /// Answers every grant with the next line (then "…").
    fn speaking(mut self, lines: &[&str]) -> Self {
        self.lines = Some(lines.iter().map(|l| l.to_string()).collect());
        self
    }
}

fn speech(response_id: &str, line: &str) -> Vec<AgentEvent> {
    let item_id = format!("{response_id}-item");
    vec![
        AgentEvent::ResponseStarted {
            response_id: response_id.into(),
        },
        AgentEvent::TranscriptDelta {
            response_id: response_id.into(),
            item_id: item_id.clone(),
            delta: line.into(),
        },
        AgentEvent::Audio {
            response_id: response_id.into(),
            item_id: item_id.clone(),
            pcm: Pcm(vec![1; 480]),
            sample_rate: 24_000,
        },
        AgentEvent::AudioDone {
            response_id: response_id.into(),
            item_id,
        },
        AgentEvent::ResponseDone {
            response_id: response_id.into(),
            status: ResponseStatus::Completed,
        },
    ]
}

struct DoubleSink {
    name: String,
    probe: Probe,
    gate: Option<Arc<Semaphore>>,
    lines: Option<VecDeque<String>>,
}

impl MemberSink for DoubleSink {
    fn deliver(&mut self, delivery: Delivery) -> MemberFuture<'_, Result<(), MemberGone>> {
        Box::pin(async move {
            self.probe.entered.fetch_add(1, Ordering::SeqCst);
            if let Some(gate) = &self.gate {
                gate.acquire().await.map_err(|_| MemberGone)?.forget();
            }
            self.probe.received.lock().unwrap().push(delivery.clone());
            if let (Delivery::Turn(TurnSignal::Granted { turn }), Some(lines)) =
                (&delivery, self.lines.as_mut())
            {
                let line = lines.pop_front().unwrap_or_else(|| "…".into());
                for event in speech(&format!("{}-{turn}", self.name), &line) {
                    self.probe.say(event);
                }
            }
            Ok(())
        })
    }
}

struct DoubleSource {
    events: mpsc::UnboundedReceiver<AgentEvent>,
    closed: Arc<AtomicBool>,
}

impl MemberSource for DoubleSource {
    fn next_event(&mut self) -> MemberFuture<'_, Option<AgentEvent>> {
        Box::pin(self.events.recv())
    }

    fn close(self: Box<Self>) -> MemberFuture<'static, Vec<AgentEvent>> {
        self.closed.store(true, Ordering::SeqCst);
        Box::pin(async {
            vec![AgentEvent::Closed {
                reason: "closed by the room".into(),
            }]
        })
    }
}

impl Member for Double {
    fn split(self) -> (Box<dyn MemberSink>, Box<dyn MemberSource>) {
        let closed = Arc::clone(&self.probe.closed);
        (
            Box::new(DoubleSink {
                name: self.name,
                probe: self.probe,
                gate: self.gate,
                lines: self.lines,
            }),
            Box::new(DoubleSource {
                events: self.events,
                closed,
            }),
        )
    }
}

// ---- helpers ----------------------------------------------------------------------

/// Waits (polling) until `cond` holds; fails after 10 s.
async fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Reads room events until one satisfies `stop` (inclusive); fails after
/// `secs` seconds or if the room stops.
async fn until(
    room: &mut ChatRoom,
    secs: u64,
    mut stop: impl FnMut(&RoomEvent) -> bool,
) -> Vec<RoomEvent> {
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let event = match tokio::time::timeout_at(deadline, room.next_event()).await {
            Ok(Some(event)) => event,
            Ok(None) => panic!("room stopped; saw {}", brief(&seen)),
            Err(_) => panic!("timed out; saw {}", brief(&seen)),
        };
        let done = stop(&event);
        seen.push(event);
        if done {
            return seen;
        }
    }
}

/// A one-line-per-event summary for failure messages.
fn brief(events: &[RoomEvent]) -> String {
    events
        .iter()
        .map(|e| match e {
            RoomEvent::Member { member, event } => {
                let v = serde_json::to_value(event).unwrap();
                format!("{member}:{}", v["type"].as_str().unwrap())
            }
            other => {
                let v = serde_json::to_value(other).unwrap();
                format!("{}", v)
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn transcript(member: &str, text: &str) -> AgentEvent {
    AgentEvent::TranscriptDelta {
        response_id: format!("{member}-r"),
        item_id: format!("{member}-i"),
        delta: text.into(),
    }
}

/// A member event of every kind worth routing: speech, tool, user, session.
fn every_kind(member: &str) -> Vec<AgentEvent> {
    let mut events = speech(&format!("{member}-r"), &format!("{member} speaking"));
    events.extend([
        AgentEvent::UserTranscript {
            item_id: format!("{member}-u"),
            text: format!("{member} heard"),
        },
        AgentEvent::ToolCallStarted {
            call_id: format!("{member}-c"),
            name: "lookup".into(),
            arguments: "{}".into(),
        },
        AgentEvent::Error {
            code: "x".into(),
            message: format!("{member} error"),
            fatal: false,
        },
    ]);
    events
}

fn config(capacity: usize, overflow: OverflowPolicy, silence_ms: u64) -> RoomConfig {
    RoomConfig {
        queue_capacity: capacity,
        overflow,
        silence_timeout: Duration::from_millis(silence_ms),
        close_timeout: Duration::from_secs(5),
    }
}

fn build(names: &[&str], doubles: Vec<Double>) -> ChatRoomBuilder {
    doubles
        .into_iter()
        .zip(names)
        .fold(ChatRoom::builder(), |b, (d, n)| b.member(*n, d))
}

// ---- routing ----------------------------------------------------------------------

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

// ---- overflow ---------------------------------------------------------------------

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

// ---- turn-taking ------------------------------------------------------------------

/// The turns seen: (holder, how its turn ended), and checks that within each
/// turn only the holder's speech reached the front end.
fn turns_of(events: &[RoomEvent]) -> Vec<(String, TurnEndReason)> {
    let mut holder: Option<MemberId> = None;
    let mut turns = Vec::new();
    for event in events {
        match event {
            RoomEvent::TurnStarted { member, .. } => {
                assert!(holder.is_none(), "two holders at once");
                holder = Some(member.clone());
            }
            RoomEvent::TurnEnded { member, reason, .. } => {
                assert_eq!(Some(member), holder.as_ref());
                turns.push((member.to_string(), *reason));
                holder = None;
            }
            RoomEvent::Member {
                member,
                event: AgentEvent::Audio { .. } | AgentEvent::ResponseStarted { .. },
            } => {
                assert_eq!(Some(member), holder.as_ref(), "speech out of turn");
            }
            _ => {}
        }
    }
    turns
}

fn finished(names: &[&str]) -> Vec<(String, TurnEndReason)> {
    names
        .iter()
        .map(|n| (n.to_string(), TurnEndReason::Finished))
        .collect()
}

fn count_turns(n: usize) -> impl FnMut(&RoomEvent) -> bool {
    let mut seen = 0;
    move |e| {
        if matches!(e, RoomEvent::TurnEnded { .. }) {
            seen += 1;
        }
        seen == n
    }
}

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

// ---- a debate over real agents -----------------------------------------------------

const QWEN_FLASH: &str = "qwen3-omni-flash-realtime";

fn manual() -> AgentConfig {
    AgentConfig::new(SessionConfig {
        turn_detection: Some(TurnDetection::Manual),
        ..Default::default()
    })
}

#[tokio::test]
async fn two_agents_on_different_providers_debate_three_turns_each() {
    let server = MockServer::builder()
        .respond(ResponderConfig::with_voice(
            understudy_mock::bundled_voice().unwrap(),
        ))
        .speed(8.0)
        .start()
        .await
        .unwrap();
    let openai = RealtimeAgent::start(
        openai::ConnectOptions::new(
            server.openai_base_url(),
            openai::Dialect::Ga,
            "gpt-realtime",
        )
        .api_key("sk-test"),
        manual(),
        ToolRegistry::new(),
    )
    .await
    .unwrap();
    let qwen = RealtimeAgent::start(
        dashscope::ConnectOptions::new(server.dashscope_url(), QWEN_FLASH).api_key("sk-test"),
        manual(),
        ToolRegistry::new(),
    )
    .await
    .unwrap();
    assert_eq!(qwen.capabilities().input_sample_rate, 16_000);
    let mut room = ChatRoom::builder()
        .config(config(4096, OverflowPolicy::DropOldest, 20_000))
        .turns(RoundRobin::new())
        .member("pro", RealtimeMember::new(openai))
        .member("contra", RealtimeMember::new(qwen))
        .start()
        .unwrap();
    // The user opens the debate (both hear it); the first commit gives the
    // floor to the first member.
    let (clip, rate) = understudy_fixtures::wav::read_pcm16(
        understudy_fixtures::bundled::audio("user-weather-24k.wav").unwrap(),
    )
    .unwrap();
    for chunk in clip.chunks(rate as usize / 10 * 2) {
        room.input().audio(chunk.to_vec(), rate).await.unwrap();
    }
    room.input().commit().await.unwrap();
    let events = until(&mut room, 60, count_turns(6)).await;
    assert_eq!(
        turns_of(&events),
        finished(&["pro", "contra", "pro", "contra", "pro", "contra"]),
        "{}",
        brief(&events)
    );
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, RoomEvent::OutOfTurn { .. } | RoomEvent::Overflow { .. })),
        "{}",
        brief(&events)
    );
    // Every turn was spoken, and each answered what it heard: the user's clip
    // first, then the other agent's audio (the mock answers unrecognised
    // audio by its length).
    let mut said: Vec<(String, String)> = Vec::new();
    for event in &events {
        if let RoomEvent::Member {
            member,
            event: AgentEvent::TranscriptDone { text, .. },
        } = event
        {
            said.push((member.to_string(), text.clone()));
        }
    }
    assert_eq!(said.len(), 6, "{said:?}");
    // The first speaker (OpenAI, 24 kHz input) heard the user's clip sample
    // for sample, so the mock recognised it; the others heard an agent.
    assert_eq!(
        said[0].1,
        "You said: What is the weather like in Paris today?"
    );
    for (who, text) in &said[1..] {
        assert!(text.starts_with("I heard "), "{who}: {text}");
    }
    // Each answer after the first heard the previous speaker's whole answer:
    // at least as many seconds as the previous speaker spoke.
    let audio_ms = |member: &str, turn: usize| -> f64 {
        let mut n = 0;
        let mut bytes = 0usize;
        let mut rate = 24_000;
        let mut inside = false;
        for e in &events {
            match e {
                RoomEvent::TurnStarted { member: m, .. } if *m == member => {
                    n += 1;
                    inside = n == turn;
                }
                RoomEvent::TurnEnded { .. } => inside = false,
                RoomEvent::Member {
                    member: m,
                    event:
                        AgentEvent::Audio {
                            pcm, sample_rate, ..
                        },
                } if inside && *m == member => {
                    bytes += pcm.0.len();
                    rate = *sample_rate;
                }
                _ => {}
            }
        }
        bytes as f64 / 2.0 / f64::from(rate) * 1000.0
    };
    let heard_secs = |text: &str| -> f64 {
        text.trim_start_matches("I heard ")
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    let clip_secs = clip.len() as f64 / 2.0 / f64::from(rate);
    let order = ["pro", "contra", "pro", "contra", "pro", "contra"];
    for i in 1..6 {
        let (prev, turn) = (order[i - 1], (i - 1) / 2 + 1);
        let mut spoken = audio_ms(prev, turn) / 1000.0;
        if i == 1 {
            // contra heard the user too: the clip was still in its input.
            spoken += clip_secs;
        }
        let heard = heard_secs(&said[i].1);
        assert!(spoken > 0.5, "{prev} spoke in turn {turn}");
        // The mock reports tenths of a second; resampling 24 → 16 kHz keeps
        // the length.
        assert!(
            (heard - spoken).abs() <= 0.15,
            "{} heard {heard} s; {prev} spoke {spoken:.2} s",
            order[i]
        );
    }
    let rest = room.close().await;
    assert_eq!(rest.last(), Some(&RoomEvent::Closed));
}
