//! Text on its way from an LLM to a TTS engine.
//!
//! An LLM answers in Markdown: code blocks, tables, links, emphasis, emoji. A
//! voice agent that feeds that stream straight into a TTS engine reads out
//! backticks, pipes and URLs. Two sans-IO stages sit in between:
//!
//! 1. [`ContentFilter`] removes what should not be spoken (code, tables,
//!    markup characters, URLs, emoji, symbols) according to a [`FilterPolicy`],
//!    streaming: it takes text deltas as they arrive and returns what is safe to
//!    speak now, holding back only what it cannot decide yet.
//! 2. [`Segmenter`] cuts the filtered stream into speakable units (clauses and
//!    sentences) for engines that synthesise one whole piece of text per request.
//!    The first unit is cut early so the agent starts speaking sooner.
//!
//! Both are plain structs with `push`/`finish` methods: no async, no I/O, no
//! clocks. Both are *split independent*: the concatenated output is the same
//! however the input was cut into deltas.
//!
//! ```
//! use understudy_adapters::text::{ContentFilter, FilterPolicy, Segmenter, SegmenterConfig};
//!
//! let mut filter = ContentFilter::new(FilterPolicy::default());
//! let mut segmenter = Segmenter::new(SegmenterConfig::default());
//! let mut units = Vec::new();
//! for delta in ["Here is **the** fix:\n```rust\nfn main", "() {}\n```\nIt compiles. Try it!"] {
//!     units.extend(segmenter.push(&filter.push(delta)));
//! }
//! units.extend(segmenter.push(&filter.finish()));
//! units.extend(segmenter.finish());
//! assert_eq!(units, ["Here is the fix:", "code omitted", "It compiles.", "Try it!"]);
//! ```

mod chars;
pub mod filter;
pub mod segmenter;

pub use filter::{filter_text, ContentFilter, FilterPolicy, Kind, Policy};
pub use segmenter::{Segmenter, SegmenterConfig};
