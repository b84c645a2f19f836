//! Remembering and recalling: the part of the responder's rule that lets a
//! test check that an agent carried a conversation into a new session.
//!
//! A user states a fact with `Remember that <subject> is <value>.` and later
//! asks `What did I say <subject> is?`. The answer comes from the latest
//! statement of that subject found in the session's instructions (where an
//! agent puts a summary of an earlier session) or in the user's earlier turns.
//! The chat mock also uses [`summary`] to act as the model a summariser calls.
//!
//! Matching is ASCII case-insensitive. A subject is split from its value at
//! the first ` is `, so a subject cannot itself contain ` is `. A statement
//! found inside longer text ends at the first sentence stop (a `.` followed by
//! whitespace or the end, so `3.14` stays whole) or at a newline.

/// The phrase that starts a statement.
const REMEMBER: &str = "remember that ";
/// The phrase that starts a question.
const ASK: &str = "what did i say ";

/// A fact a user stated: `subject is value`, both as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fact {
    /// What the fact is about (`my name`).
    pub subject: String,
    /// What it is (`Ada`).
    pub value: String,
}

/// What the recall rule makes of one user text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recall {
    /// `Remember that <subject> is <value>.`: acknowledge it.
    Statement(Fact),
    /// `What did I say <subject> is?`: answer from what was said before.
    Question(String),
}

/// Reads a user text as a statement or a question, when it is one.
///
/// A statement's value runs to its final sentence stop (trailing text after
/// it is dropped); a question must end in ` is` before its `?`.
pub fn classify(text: &str) -> Option<Recall> {
    let text = text.trim();
    if let Some(rest) = strip_prefix_ci(text, REMEMBER) {
        let clause = match last_sentence_stop(rest) {
            Some(stop) => &rest[..stop],
            None => rest,
        };
        return split_fact(clause).map(Recall::Statement);
    }
    let rest = strip_prefix_ci(text, ASK)?;
    let rest = rest.trim_end().strip_suffix('?')?.trim_end();
    let subject = strip_suffix_ci(rest, " is")?.trim();
    (!subject.is_empty()).then(|| Recall::Question(subject.to_owned()))
}

/// The answer to a recall text: the acknowledgement of a statement, or the
/// answer to a question from `instructions` then `earlier` user texts (oldest
/// first; the latest statement of the subject wins).
pub fn answer<'a>(
    recall: &Recall,
    instructions: Option<&'a str>,
    earlier: impl IntoIterator<Item = &'a str>,
) -> String {
    match recall {
        Recall::Statement(fact) => format!("Noted: {} is {}.", fact.subject, fact.value),
        Recall::Question(subject) => {
            let wanted = normalise(subject);
            let found = instructions
                .into_iter()
                .chain(earlier)
                .flat_map(facts)
                .filter(|fact| normalise(&fact.subject) == wanted)
                .last();
            match found {
                Some(fact) => format!("You said {subject} is {}.", fact.value),
                None => format!("You never told me what {subject} is."),
            }
        }
    }
}

/// Every `remember that <subject> is <value>` in `text`, in order; each ends
/// at its first sentence stop or newline.
pub fn facts(text: &str) -> Vec<Fact> {
    let lower = text.to_ascii_lowercase();
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = lower[from..].find(REMEMBER) {
        let start = from + at + REMEMBER.len();
        let rest = &text[start..];
        let end = first_clause_end(rest);
        if let Some(fact) = split_fact(&rest[..end]) {
            found.push(fact);
        }
        from = start;
    }
    found
}

/// An extractive summary of `text` (a transcript with `User:` lines): each
/// remembered fact once, in the order first stated, with its latest value,
/// one `Remember that <subject> is <value>.` per line, then
/// `(<N> turns summarized)` counting the lines that begin with `User:`.
pub fn summary(text: &str) -> String {
    let mut kept: Vec<Fact> = Vec::new();
    for fact in facts(text) {
        let key = normalise(&fact.subject);
        match kept.iter_mut().find(|k| normalise(&k.subject) == key) {
            Some(existing) => existing.value = fact.value,
            None => kept.push(fact),
        }
    }
    let turns = text
        .lines()
        .filter(|line| line.trim_start().starts_with("User:"))
        .count();
    kept.iter()
        .map(|f| format!("Remember that {} is {}.", f.subject, f.value))
        .chain(std::iter::once(format!("({turns} turns summarized)")))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether a system prompt asks for a summary: it has the word `summarize`
/// or `summarise` (any case). Whole words only, so instructions that carry a
/// summary's `(N turns summarized)` line do not read as a request for one.
pub fn asks_for_summary(instructions: &str) -> bool {
    instructions
        .split(|c: char| !c.is_ascii_alphabetic())
        .any(|word| {
            word.eq_ignore_ascii_case("summarize") || word.eq_ignore_ascii_case("summarise")
        })
}

/// `subject is value` split at the first ` is ` (case-insensitive), both trimmed and non-empty.
fn split_fact(clause: &str) -> Option<Fact> {
    let at = clause.to_ascii_lowercase().find(" is ")?;
    let subject = clause[..at].trim();
    let value = clause[at + 4..].trim();
    (!subject.is_empty() && !value.is_empty()).then(|| Fact {
        subject: subject.to_owned(),
        value: value.to_owned(),
    })
}

/// Byte offset of the first sentence stop or newline in `text`, or its length.
fn first_clause_end(text: &str) -> usize {
    let bytes = text.as_bytes();
    bytes
        .iter()
        .enumerate()
        .position(|(i, &b)| b == b'\n' || (b == b'.' && is_stop(bytes, i)))
        .unwrap_or(text.len())
}

/// Byte offset of the last sentence stop in `text`.
fn last_sentence_stop(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    (0..bytes.len())
        .rev()
        .find(|&i| bytes[i] == b'.' && is_stop(bytes, i))
}

/// Whether the `.` at `i` ends a sentence (end of text or whitespace next).
fn is_stop(bytes: &[u8], i: usize) -> bool {
    bytes.get(i + 1).is_none_or(u8::is_ascii_whitespace)
}

/// `text` without `prefix`, compared ASCII case-insensitively.
fn strip_prefix_ci<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

/// `text` without `suffix`, compared ASCII case-insensitively.
fn strip_suffix_ci<'a>(text: &'a str, suffix: &str) -> Option<&'a str> {
    let cut = text.len().checked_sub(suffix.len())?;
    let tail = text.get(cut..)?;
    tail.eq_ignore_ascii_case(suffix).then(|| &text[..cut])
}

/// A subject as compared: lower case, single spaces.
fn normalise(subject: &str) -> String {
    subject
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_and_questions_are_recognised() {
        assert_eq!(
            classify("remember that my name is Ada Lovelace."),
            Some(Recall::Statement(Fact {
                subject: "my name".into(),
                value: "Ada Lovelace".into()
            }))
        );
        assert_eq!(
            classify("Remember that pi is 3.14. Thanks!"),
            Some(Recall::Statement(Fact {
                subject: "pi".into(),
                value: "3.14".into()
            }))
        );
        assert_eq!(
            classify("What did I say my name is?"),
            Some(Recall::Question("my name".into()))
        );
        assert_eq!(classify("What did I say?"), None);
        assert_eq!(classify("Remember me"), None);
        assert_eq!(classify("Hello"), None);
    }

    #[test]
    fn facts_end_at_a_sentence_stop_or_a_newline() {
        let text = "Be brief. Remember that the code is 4.2.1 now\nremember THAT the colour is teal. And more.";
        let found = facts(text);
        assert_eq!(
            found,
            vec![
                Fact {
                    subject: "the code".into(),
                    value: "4.2.1 now".into()
                },
                Fact {
                    subject: "the colour".into(),
                    value: "teal".into()
                }
            ]
        );
    }

    #[test]
    fn summaries_keep_each_subject_once_with_its_latest_value() {
        let text = "User: Remember that my name is Ada.\nAssistant: Noted: my name is Ada.\n\
                    User: Remember that the city is Paris.\nUser: Remember that my name is Grace.\n";
        assert_eq!(
            summary(text),
            "Remember that my name is Grace.\nRemember that the city is Paris.\n(3 turns summarized)"
        );
        assert_eq!(summary("nothing here"), "(0 turns summarized)");
        assert!(asks_for_summary("Please SUMMARISE the chat"));
        assert!(asks_for_summary("summarize:"));
        assert!(!asks_for_summary("Be helpful"));
        assert!(!asks_for_summary(
            "Remember that x is y.\n(2 turns summarized)"
        ));
    }
}
