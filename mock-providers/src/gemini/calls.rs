//! The Gemini respond engine's tool-call book-keeping: which calls are
//! pending and how they block, which were cancelled (their late responses
//! are ignored), and a function response's `scheduling`.

use std::collections::VecDeque;
use understudy_adapters::gemini::models::ToolBehavior;

/// How many cancelled call ids a session remembers (to ignore their late
/// responses); older ones are forgotten.
pub const MAX_CANCELLED: usize = 256;

/// How many calls may be pending at once; a model that would go past it
/// answers instead of calling (nothing unbounded).
pub const MAX_PENDING: usize = 64;

/// A call the model made that has no final response yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingCall {
    /// The call id.
    pub id: String,
    /// The function called.
    pub name: String,
    /// Whether the model waits for it.
    pub behavior: ToolBehavior,
}

/// When a non-blocking call's result is voiced (`FunctionResponse.scheduling`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheduling {
    /// Cut the model's current output and answer from the result now.
    Interrupt,
    /// Answer once the model is not generating (the default).
    WhenIdle,
    /// Add the result to the context; say nothing.
    Silent,
}

impl Scheduling {
    /// Reads the wire value; `None` for a value the enum does not have
    /// (which the service refuses as an invalid argument).
    pub fn from_wire(value: &str) -> Option<Self> {
        match value {
            "INTERRUPT" => Some(Scheduling::Interrupt),
            "WHEN_IDLE" | "SCHEDULING_UNSPECIFIED" => Some(Scheduling::WhenIdle),
            "SILENT" => Some(Scheduling::Silent),
            _ => None,
        }
    }
}

/// The calls of one session.
#[derive(Debug, Clone, Default)]
pub struct Calls {
    pending: Vec<PendingCall>,
    cancelled: VecDeque<String>,
}

impl Calls {
    /// Records a new call; `false` when [`MAX_PENDING`] are already pending.
    pub fn add(&mut self, call: PendingCall) -> bool {
        if self.pending.len() >= MAX_PENDING {
            return false;
        }
        self.pending.push(call);
        true
    }

    /// Whether any call is still waiting for its response.
    pub fn outstanding(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Whether a blocking call is pending (the model's turn is paused).
    pub fn blocking_pending(&self) -> bool {
        self.pending
            .iter()
            .any(|c| c.behavior == ToolBehavior::Blocking)
    }

    /// The pending call `id`, if any.
    pub fn get(&self, id: &str) -> Option<&PendingCall> {
        self.pending.iter().find(|c| c.id == id)
    }

    /// Removes and returns the pending call `id`.
    pub fn take(&mut self, id: &str) -> Option<PendingCall> {
        let at = self.pending.iter().position(|c| c.id == id)?;
        Some(self.pending.remove(at))
    }

    /// Cancels every pending blocking call (new input arrived): returns their
    /// ids, remembered so that late responses are ignored.
    pub fn cancel_blocking(&mut self) -> Vec<String> {
        let (cancelled, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.pending)
            .into_iter()
            .partition(|c| c.behavior == ToolBehavior::Blocking);
        self.pending = kept;
        let ids: Vec<String> = cancelled.into_iter().map(|c| c.id).collect();
        for id in &ids {
            if self.cancelled.len() == MAX_CANCELLED {
                self.cancelled.pop_front();
            }
            self.cancelled.push_back(id.clone());
        }
        ids
    }

    /// Whether `id` was cancelled (its response comes too late).
    pub fn was_cancelled(&self, id: &str) -> bool {
        self.cancelled.iter().any(|c| c == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(id: &str, behavior: ToolBehavior) -> PendingCall {
        PendingCall {
            id: id.into(),
            name: "f".into(),
            behavior,
        }
    }

    #[test]
    fn cancelling_takes_only_blocking_calls_and_remembers_them() {
        let mut calls = Calls::default();
        assert!(calls.add(call("a", ToolBehavior::Blocking)));
        assert!(calls.add(call("b", ToolBehavior::NonBlocking)));
        assert!(calls.blocking_pending());
        assert_eq!(calls.cancel_blocking(), vec!["a".to_owned()]);
        assert!(!calls.blocking_pending() && calls.outstanding());
        assert!(calls.was_cancelled("a") && !calls.was_cancelled("b"));
        assert_eq!(calls.take("b").map(|c| c.id), Some("b".into()));
        assert!(!calls.outstanding());
    }

    #[test]
    fn pending_and_cancelled_calls_are_bounded() {
        let mut calls = Calls::default();
        for i in 0..MAX_PENDING {
            assert!(calls.add(call(&i.to_string(), ToolBehavior::Blocking)));
        }
        assert!(!calls.add(call("one too many", ToolBehavior::Blocking)));
        for round in 0..6 {
            calls.cancel_blocking();
            for i in 0..MAX_PENDING {
                calls.add(call(&format!("{round}-{i}"), ToolBehavior::Blocking));
            }
        }
        assert_eq!(calls.cancelled.len(), MAX_CANCELLED);
    }

    #[test]
    fn scheduling_reads_the_enum_and_refuses_others() {
        assert_eq!(
            Scheduling::from_wire("INTERRUPT"),
            Some(Scheduling::Interrupt)
        );
        assert_eq!(Scheduling::from_wire("SILENT"), Some(Scheduling::Silent));
        assert_eq!(
            Scheduling::from_wire("WHEN_IDLE"),
            Some(Scheduling::WhenIdle)
        );
        assert_eq!(Scheduling::from_wire("INTERRUPTED"), None);
    }
}
