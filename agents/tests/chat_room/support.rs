//! The room tests' test double (a member that records what it is handed
//! and says what the test tells it to) and the helpers every part shares:
//! bounded waits, reading room events, and reading turns off them.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, Semaphore};
use understudy_adapters::{Pcm, ResponseStatus};
use understudy_agents::realtime::AgentEvent;
use understudy_agents::room::{
    ChatRoom, ChatRoomBuilder, Delivery, Member, MemberFuture, MemberGone, MemberId, MemberSink,
    MemberSource, OverflowPolicy, RoomConfig, RoomEvent, TurnEndReason, TurnSignal,
};

/// The test's view of a double: what it was handed, and a way to make it
/// say things.
#[derive(Clone)]
pub struct Probe {
    pub received: Arc<Mutex<Vec<Delivery>>>,
    pub say: mpsc::UnboundedSender<AgentEvent>,
    /// Deliveries it started taking (a held one included).
    pub entered: Arc<AtomicUsize>,
    pub closed: Arc<AtomicBool>,
}

impl Probe {
    pub fn received(&self) -> Vec<Delivery> {
        self.received.lock().unwrap().clone()
    }

    pub fn count(&self) -> usize {
        self.received.lock().unwrap().len()
    }

    pub fn say(&self, event: AgentEvent) {
        self.say.send(event).unwrap();
    }

    pub fn grants(&self) -> usize {
        self.received()
            .iter()
            .filter(|d| matches!(d, Delivery::Turn(TurnSignal::Granted { .. })))
            .count()
    }
}

/// A member that records its deliveries; optionally held by a gate, and
/// optionally answering each grant with a scripted line of "speech".
pub struct Double {
    pub name: String,
    pub probe: Probe,
    pub events: mpsc::UnboundedReceiver<AgentEvent>,
    pub gate: Option<Arc<Semaphore>>,
    pub lines: Option<VecDeque<String>>,
}

impl Double {
    pub fn new(name: &str) -> (Double, Probe) {
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
    pub fn held_by(mut self, gate: Arc<Semaphore>) -> Self {
        self.gate = Some(gate);
        self
    }

    /// Answers every grant with the next line (then "…").
    pub fn speaking(mut self, lines: &[&str]) -> Self {
        self.lines = Some(lines.iter().map(|l| l.to_string()).collect());
        self
    }
}

pub fn speech(response_id: &str, line: &str) -> Vec<AgentEvent> {
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

pub struct DoubleSink {
    pub name: String,
    pub probe: Probe,
    pub gate: Option<Arc<Semaphore>>,
    pub lines: Option<VecDeque<String>>,
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

pub struct DoubleSource {
    pub events: mpsc::UnboundedReceiver<AgentEvent>,
    pub closed: Arc<AtomicBool>,
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

/// Waits (polling) until `cond` holds; fails after 10 s.
pub async fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Reads room events until one satisfies `stop` (inclusive); fails after
/// `secs` seconds or if the room stops.
pub async fn until(
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
pub fn brief(events: &[RoomEvent]) -> String {
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

pub fn transcript(member: &str, text: &str) -> AgentEvent {
    AgentEvent::TranscriptDelta {
        response_id: format!("{member}-r"),
        item_id: format!("{member}-i"),
        delta: text.into(),
    }
}

/// A member event of every kind worth routing: speech, tool, user, session.
pub fn every_kind(member: &str) -> Vec<AgentEvent> {
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

pub fn config(capacity: usize, overflow: OverflowPolicy, silence_ms: u64) -> RoomConfig {
    RoomConfig {
        queue_capacity: capacity,
        overflow,
        silence_timeout: Duration::from_millis(silence_ms),
        close_timeout: Duration::from_secs(5),
    }
}

pub fn build(names: &[&str], doubles: Vec<Double>) -> ChatRoomBuilder {
    doubles
        .into_iter()
        .zip(names)
        .fold(ChatRoom::builder(), |b, (d, n)| b.member(*n, d))
}

/// The turns seen: (holder, how its turn ended), and checks that within each
/// turn only the holder's speech reached the front end.
pub fn turns_of(events: &[RoomEvent]) -> Vec<(String, TurnEndReason)> {
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

pub fn finished(names: &[&str]) -> Vec<(String, TurnEndReason)> {
    names
        .iter()
        .map(|n| (n.to_string(), TurnEndReason::Finished))
        .collect()
}

pub fn count_turns(n: usize) -> impl FnMut(&RoomEvent) -> bool {
    let mut seen = 0;
    move |e| {
        if matches!(e, RoomEvent::TurnEnded { .. }) {
            seen += 1;
        }
        seen == n
    }
}
