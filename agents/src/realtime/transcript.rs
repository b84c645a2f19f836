//! The session transcript: user turns, agent turns, tool calls and results,
//! in conversation order.
//!
//! The model's memory lives at the provider; this is the agent's own record,
//! used to show the conversation, to check it in tests, and to brief a new
//! model session after a reconnect that could not resume the old one. Agent
//! turns hold what was actually *heard*: a barge-in cuts them to the audio the
//! front end played.

use serde::Serialize;

/// Who or what produced an entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TranscriptEntry {
    /// A user turn: spoken (transcribed by the provider) or typed.
    User {
        /// The provider's user item id (`None` for typed text).
        item_id: Option<String>,
        /// What the user said; `None` while the transcript is pending or when
        /// the provider could not transcribe it.
        text: Option<String>,
    },
    /// An agent turn (one output item).
    Agent {
        /// The response.
        response_id: String,
        /// The output item.
        item_id: String,
        /// What the agent said (up to the barge-in, when interrupted).
        text: String,
        /// Whether the user cut it short.
        interrupted: bool,
    },
    /// The model called a tool.
    ToolCall {
        /// The call.
        call_id: String,
        /// The tool.
        name: String,
        /// Arguments, JSON text.
        arguments: String,
    },
    /// A tool's result as sent to the model.
    ToolResult {
        /// The call answered.
        call_id: String,
        /// The tool.
        name: String,
        /// The result text.
        output: String,
        /// Whether it reports a failure.
        is_error: bool,
    },
    /// The provider withdrew a call before it finished.
    ToolCancelled {
        /// The call.
        call_id: String,
    },
}

/// The ordered record of a session.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Transcript {
    entries: Vec<TranscriptEntry>,
    /// For each agent entry (by index): the transcript pieces with the audio
    /// (ms) delivered when each arrived, so a barge-in can cut at what was heard.
    #[serde(skip)]
    pieces: Vec<(usize, u64, String)>,
    /// Entries before this index belong to earlier connections: ids are only
    /// looked up after it, since a new connection may mint the same ids again
    /// (Gemini's `turn_0`, …).
    #[serde(skip)]
    sealed: usize,
}

impl Transcript {
    /// The entries, oldest first.
    pub fn entries(&self) -> &[TranscriptEntry] {
        &self.entries
    }

    /// Agent turns' texts, oldest first.
    pub fn agent_turns(&self) -> Vec<&str> {
        self.entries
            .iter()
            .filter_map(|e| match e {
                TranscriptEntry::Agent { text, .. } => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }

    /// User turns' texts (pending or failed ones as `None`), oldest first.
    pub fn user_turns(&self) -> Vec<Option<&str>> {
        self.entries
            .iter()
            .filter_map(|e| match e {
                TranscriptEntry::User { text, .. } => Some(text.as_deref()),
                _ => None,
            })
            .collect()
    }

    /// A new model connection starts: later ids refer to its items only.
    pub(crate) fn new_connection(&mut self) {
        self.sealed = self.entries.len();
    }

    pub(crate) fn push(&mut self, entry: TranscriptEntry) {
        self.entries.push(entry);
    }

    /// Reserves the place of a spoken user turn whose transcript is not in yet.
    pub(crate) fn user_pending(&mut self, item_id: &str) {
        if self.user_index(item_id).is_none() {
            self.entries.push(TranscriptEntry::User {
                item_id: Some(item_id.to_owned()),
                text: None,
            });
        }
    }

    /// Fills in (or appends) a spoken user turn.
    pub(crate) fn user_heard(&mut self, item_id: &str, transcript: &str) {
        match self.user_index(item_id) {
            Some(i) => {
                if let TranscriptEntry::User { text, .. } = &mut self.entries[i] {
                    *text = Some(transcript.to_owned());
                }
            }
            None => self.entries.push(TranscriptEntry::User {
                item_id: Some(item_id.to_owned()),
                text: Some(transcript.to_owned()),
            }),
        }
    }

    fn user_index(&self, item_id: &str) -> Option<usize> {
        self.entries[self.sealed..]
            .iter()
            .rposition(
                |e| matches!(e, TranscriptEntry::User { item_id: Some(id), .. } if id == item_id),
            )
            .map(|i| i + self.sealed)
    }

    fn agent_index(&self, item_id: &str) -> Option<usize> {
        self.entries[self.sealed..]
            .iter()
            .rposition(|e| matches!(e, TranscriptEntry::Agent { item_id: id, .. } if id == item_id))
            .map(|i| i + self.sealed)
    }

    /// Appends a piece of an agent turn, heard from `audio_ms` on.
    pub(crate) fn agent_delta(
        &mut self,
        response_id: &str,
        item_id: &str,
        delta: &str,
        audio_ms: u64,
    ) {
        let index = match self.agent_index(item_id) {
            Some(i) => i,
            None => {
                self.entries.push(TranscriptEntry::Agent {
                    response_id: response_id.to_owned(),
                    item_id: item_id.to_owned(),
                    text: String::new(),
                    interrupted: false,
                });
                self.entries.len() - 1
            }
        };
        if let TranscriptEntry::Agent {
            text, interrupted, ..
        } = &mut self.entries[index]
        {
            if !*interrupted {
                text.push_str(delta);
                self.pieces.push((index, audio_ms, delta.to_owned()));
            }
        }
    }

    /// Settles an agent turn with the provider's full transcript, unless a
    /// barge-in already cut it.
    pub(crate) fn agent_done(&mut self, response_id: &str, item_id: &str, transcript: &str) {
        match self.agent_index(item_id) {
            Some(i) => {
                if let TranscriptEntry::Agent {
                    text, interrupted, ..
                } = &mut self.entries[i]
                {
                    if !*interrupted {
                        *text = transcript.to_owned();
                    }
                }
            }
            None => self.entries.push(TranscriptEntry::Agent {
                response_id: response_id.to_owned(),
                item_id: item_id.to_owned(),
                text: transcript.to_owned(),
                interrupted: false,
            }),
        }
    }

    /// Cuts an agent turn to what was heard: the pieces that arrived while
    /// less than `played_ms` of its audio had been delivered (`None`: keep
    /// all text, only mark it interrupted — a text answer, or no audio yet).
    pub(crate) fn agent_interrupted(&mut self, item_id: &str, played_ms: Option<u64>) {
        let Some(index) = self.agent_index(item_id) else {
            return;
        };
        let kept = played_ms.map(|played| {
            self.pieces
                .iter()
                .filter(|(i, at, _)| *i == index && *at < played.max(1))
                .map(|(_, _, piece)| piece.as_str())
                .collect::<String>()
        });
        if let TranscriptEntry::Agent {
            text, interrupted, ..
        } = &mut self.entries[index]
        {
            if let Some(kept) = kept {
                *text = kept;
            }
            *interrupted = true;
        }
    }

    /// The conversation as plain lines for a new session's instructions,
    /// newest kept, at most `max_chars` long.
    pub fn as_context(&self, max_chars: usize) -> String {
        let mut lines: Vec<String> = Vec::new();
        let mut used = 0;
        for entry in self.entries.iter().rev() {
            let line = match entry {
                TranscriptEntry::User { text: Some(t), .. } => format!("user: {t}"),
                TranscriptEntry::Agent { text, .. } if !text.is_empty() => {
                    format!("assistant: {text}")
                }
                TranscriptEntry::ToolCall {
                    name, arguments, ..
                } => format!("assistant called {name}({arguments})"),
                TranscriptEntry::ToolResult { name, output, .. } => {
                    format!("{name} returned: {output}")
                }
                _ => continue,
            };
            if used + line.len() + 1 > max_chars {
                break;
            }
            used += line.len() + 1;
            lines.push(line);
        }
        lines.reverse();
        lines.join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pending_user_turn_keeps_its_place() {
        let mut t = Transcript::default();
        t.user_pending("u1");
        t.agent_delta("r1", "a1", "Hello", 0);
        t.user_heard("u1", "hi there");
        assert_eq!(t.user_turns(), vec![Some("hi there")]);
        assert!(matches!(t.entries()[0], TranscriptEntry::User { .. }));
    }

    #[test]
    fn ids_a_new_connection_mints_again_start_new_turns() {
        let mut t = Transcript::default();
        t.agent_delta("turn_0", "turn_0_model", "Before.", 0);
        t.agent_done("turn_0", "turn_0_model", "Before.");
        t.new_connection();
        t.agent_delta("turn_0", "turn_0_model", "After.", 0);
        t.agent_done("turn_0", "turn_0_model", "After.");
        assert_eq!(t.agent_turns(), vec!["Before.", "After."]);
    }

    #[test]
    fn a_barge_in_keeps_only_what_was_heard() {
        let mut t = Transcript::default();
        t.agent_delta("r1", "a1", "One ", 0);
        t.agent_delta("r1", "a1", "two ", 100);
        t.agent_delta("r1", "a1", "three.", 200);
        t.agent_interrupted("a1", Some(150));
        t.agent_done("r1", "a1", "One two three.");
        t.agent_delta("r1", "a1", "late", 300);
        assert_eq!(t.agent_turns(), vec!["One two "]);
        assert!(matches!(
            t.entries()[0],
            TranscriptEntry::Agent {
                interrupted: true,
                ..
            }
        ));
    }

    #[test]
    fn context_keeps_the_newest_lines_within_the_bound() {
        let mut t = Transcript::default();
        t.push(TranscriptEntry::User {
            item_id: None,
            text: Some("first question".into()),
        });
        t.agent_done("r1", "a1", "first answer");
        t.push(TranscriptEntry::User {
            item_id: None,
            text: Some("second".into()),
        });
        assert_eq!(
            t.as_context(1000),
            "user: first question\nassistant: first answer\nuser: second"
        );
        assert_eq!(t.as_context(20), "user: second");
    }
}
