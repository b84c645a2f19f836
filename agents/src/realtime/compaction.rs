//! Carrying a conversation into a fresh provider session.
//!
//! A new session that cannot resume the old one (OpenAI and DashScope never
//! can; Gemini when its handle is refused) starts with an empty context. The
//! agent gives it the conversation instead, compacted: a [`Summariser`] turns
//! the older turns into text, the most recent turns go verbatim, and both
//! are added to the session's instructions ([`compose_instructions`]).
//!
//! Two summarisers ship: [`ExtractiveSummariser`], which needs no model (it
//! keeps what the user said, newest first, within a budget), and
//! [`ChatSummariser`], which asks a chat-completions model and falls back to
//! the extractive one when the model cannot be reached.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use understudy_adapters::chat::client::ChatClient;
use understudy_adapters::chat::request::{ChatRequest, Message};

use super::transcript::TranscriptEntry;

/// Who said a line of the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Speaker {
    /// The user.
    User,
    /// The agent (the model's answers).
    Agent,
    /// A tool call or its result.
    Tool,
}

impl Speaker {
    /// The label a line carries (`User: …`).
    pub fn label(self) -> &'static str {
        match self {
            Speaker::User => "User",
            Speaker::Agent => "Assistant",
            Speaker::Tool => "Tool",
        }
    }
}

/// One line of the conversation, as a summariser reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// Who said it.
    pub speaker: Speaker,
    /// What was said (a tool line: `name(arguments)` or `name returned: …`).
    pub text: String,
}

impl std::fmt::Display for Line {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.speaker.label(), self.text)
    }
}

/// The conversation as lines, oldest first: users' words, the agent's
/// answers, tool calls and results. Pending or untranscribed user turns and
/// empty answers carry nothing and are left out.
pub fn lines_of(entries: &[TranscriptEntry]) -> Vec<Line> {
    entries
        .iter()
        .filter_map(|entry| {
            let (speaker, text) = match entry {
                TranscriptEntry::User { text: Some(t), .. } => (Speaker::User, t.clone()),
                TranscriptEntry::Agent { text, .. } if !text.is_empty() => {
                    (Speaker::Agent, text.clone())
                }
                TranscriptEntry::ToolCall {
                    name, arguments, ..
                } => (Speaker::Tool, format!("called {name}({arguments})")),
                TranscriptEntry::ToolResult { name, output, .. } => {
                    (Speaker::Tool, format!("{name} returned: {output}"))
                }
                _ => return None,
            };
            let text = text.trim().to_owned();
            (!text.is_empty()).then_some(Line { speaker, text })
        })
        .collect()
}

/// Why a summary could not be made.
#[derive(Debug, thiserror::Error)]
pub enum SummaryError {
    /// The chat model could not be asked or did not answer.
    #[error("the summarising model failed: {0}")]
    Model(String),
}

/// The future a [`Summariser`] returns.
pub type SummaryFuture<'a> =
    Pin<Box<dyn Future<Output = Result<String, SummaryError>> + Send + 'a>>;

/// Turns the older part of a conversation into text a new session can
/// continue from. Implement it to use your own model or rules.
pub trait Summariser: Send + Sync + std::fmt::Debug + 'static {
    /// A summary of `lines` (oldest first) in at most about `budget_chars`
    /// characters. It must keep what later turns may need: facts the user
    /// stated, decisions, open requests.
    fn summarise<'a>(&'a self, lines: &'a [Line], budget_chars: usize) -> SummaryFuture<'a>;

    /// A name for logs and reports.
    fn name(&self) -> &'static str;
}

/// A shared summariser, as the agent's configuration keeps it.
pub type SharedSummariser = Arc<dyn Summariser>;

/// The summariser that needs no model: the user's own words, newest kept
/// first when the budget is short, in their original order; the agent's
/// answers (which repeat or follow from them) and tool chatter are left out,
/// tool results kept.
#[derive(Debug, Clone, Copy, Default)]
pub struct ExtractiveSummariser;

impl ExtractiveSummariser {
    /// The summary, synchronously (the [`ChatSummariser`] falls back to it).
    pub fn extract(lines: &[Line], budget_chars: usize) -> String {
        let kept: Vec<&Line> = lines
            .iter()
            .filter(|l| l.speaker == Speaker::User || l.text.contains(" returned: "))
            .collect();
        let mut chosen = Vec::new();
        let mut used = 0;
        for line in kept.iter().rev() {
            let text = line.to_string();
            if used + text.len() + 1 > budget_chars {
                break;
            }
            used += text.len() + 1;
            chosen.push(text);
        }
        let omitted = kept.len() - chosen.len();
        chosen.reverse();
        let mut summary = chosen.join("\n");
        if omitted > 0 {
            summary = format!("({omitted} earlier lines omitted)\n{summary}");
        }
        summary
    }
}

impl Summariser for ExtractiveSummariser {
    fn summarise<'a>(&'a self, lines: &'a [Line], budget_chars: usize) -> SummaryFuture<'a> {
        Box::pin(async move { Ok(Self::extract(lines, budget_chars)) })
    }

    fn name(&self) -> &'static str {
        "extractive"
    }
}

/// What the chat model is asked to do.
const SUMMARY_PROMPT: &str = "Summarize the conversation below for a voice assistant that will \
continue it in a new session. Keep every fact the user stated (names, numbers, preferences, \
\"remember that …\" requests) word for word, and any open request. Be brief.";

/// A summariser that asks a chat-completions model (any OpenAI-compatible
/// endpoint, DashScope's compatible mode, or the mock's chat route).
pub struct ChatSummariser {
    client: ChatClient,
    model: String,
}

impl std::fmt::Debug for ChatSummariser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatSummariser")
            .field("endpoint", &self.client.endpoint())
            .field("model", &self.model)
            .finish()
    }
}

impl ChatSummariser {
    /// Summarises with `model` through `client`.
    pub fn new(client: ChatClient, model: impl Into<String>) -> Self {
        ChatSummariser {
            client,
            model: model.into(),
        }
    }

    async fn ask(&self, lines: &[Line], budget_chars: usize) -> Result<String, SummaryError> {
        let conversation: Vec<String> = lines.iter().map(Line::to_string).collect();
        let request = ChatRequest::new(
            self.model.clone(),
            vec![
                Message::system(format!(
                    "{SUMMARY_PROMPT} At most {budget_chars} characters."
                )),
                Message::user(conversation.join("\n")),
            ],
        );
        let stream = self
            .client
            .stream(request)
            .await
            .map_err(|e| SummaryError::Model(e.to_string()))?;
        let answer = stream
            .collect_answer()
            .await
            .map_err(|e| SummaryError::Model(e.to_string()))?;
        let text = answer.text.trim().to_owned();
        if text.is_empty() {
            return Err(SummaryError::Model(
                "the model answered with no text".into(),
            ));
        }
        Ok(text.chars().take(budget_chars).collect())
    }
}

impl Summariser for ChatSummariser {
    fn summarise<'a>(&'a self, lines: &'a [Line], budget_chars: usize) -> SummaryFuture<'a> {
        Box::pin(async move {
            match self.ask(lines, budget_chars).await {
                Ok(summary) => Ok(summary),
                Err(error) => {
                    tracing::warn!(%error, "summarising without the model");
                    Ok(ExtractiveSummariser::extract(lines, budget_chars))
                }
            }
        })
    }

    fn name(&self) -> &'static str {
        "chat"
    }
}

/// The instructions of a session that continues a conversation: the
/// original ones, the summary of the older turns, then the most recent
/// turns verbatim.
pub fn compose_instructions(base: &str, summary: &str, recent: &[Line]) -> String {
    let mut out = base.trim().to_owned();
    if !summary.trim().is_empty() {
        out.push_str("\n\n## Summary of the conversation so far\n");
        out.push_str(summary.trim());
    }
    if !recent.is_empty() {
        out.push_str("\n\n## Most recent turns\n");
        let recent: Vec<String> = recent.iter().map(Line::to_string).collect();
        out.push_str(&recent.join("\n"));
    }
    out.trim_start().to_owned()
}

/// Splits `lines` into the part to summarise and the last `recent_turns`
/// user turns (each with what followed it), kept verbatim.
pub fn split_recent(lines: &[Line], recent_turns: usize) -> (&[Line], &[Line]) {
    let user_starts: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.speaker == Speaker::User)
        .map(|(i, _)| i)
        .collect();
    let cut = match recent_turns {
        0 => lines.len(),
        n if n >= user_starts.len() => 0,
        n => user_starts[user_starts.len() - n],
    };
    lines.split_at(cut)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(speaker: Speaker, text: &str) -> Line {
        Line {
            speaker,
            text: text.into(),
        }
    }

    fn conversation() -> Vec<Line> {
        vec![
            line(Speaker::User, "Remember that the code word is falcon."),
            line(Speaker::Agent, "Noted: the code word is falcon."),
            line(Speaker::User, "What is the weather in Paris?"),
            line(Speaker::Tool, "called get_weather({\"city\":\"Paris\"})"),
            line(Speaker::Tool, "get_weather returned: sunny"),
            line(Speaker::Agent, "It is sunny."),
            line(Speaker::User, "Thanks."),
            line(Speaker::Agent, "You said: Thanks."),
        ]
    }

    #[test]
    fn the_extractive_summary_keeps_the_users_words_and_tool_results() {
        let summary = ExtractiveSummariser::extract(&conversation(), 10_000);
        assert_eq!(
            summary,
            "User: Remember that the code word is falcon.\nUser: What is the weather in Paris?\nTool: get_weather returned: sunny\nUser: Thanks."
        );
        // A short budget keeps the newest lines and says what it left out.
        let short = ExtractiveSummariser::extract(&conversation(), 50);
        assert!(short.starts_with("(2 earlier lines omitted)\n"), "{short}");
        assert!(short.ends_with("User: Thanks."), "{short}");
    }

    #[test]
    fn recent_turns_are_split_at_user_turns() {
        let lines = conversation();
        let (older, recent) = split_recent(&lines, 1);
        assert_eq!(recent.len(), 2);
        assert_eq!(recent[0].text, "Thanks.");
        assert_eq!(older.len(), 6);
        assert_eq!(split_recent(&lines, 10).0.len(), 0);
        assert_eq!(split_recent(&lines, 0).1.len(), 0);
    }

    #[test]
    fn instructions_carry_summary_and_recent_turns() {
        let lines = conversation();
        let (older, recent) = split_recent(&lines, 1);
        let summary = ExtractiveSummariser::extract(older, 1000);
        let text = compose_instructions("Be terse.", &summary, recent);
        assert!(text.starts_with("Be terse.\n\n## Summary of the conversation so far\nUser: Remember that the code word is falcon."));
        assert!(text.ends_with("## Most recent turns\nUser: Thanks.\nAssistant: You said: Thanks."));
        assert_eq!(compose_instructions("", "", &[]), "");
    }
}
