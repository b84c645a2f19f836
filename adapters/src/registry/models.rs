//! Per-model behaviour as data: a dialect's table of model families, looked
//! up by the model's name.
//!
//! Providers change behaviour by model, not by endpoint: Gemini 3.8 Live's
//! tools are non-blocking where 2.5's block; `qwen3.8-omni` nests its audio
//! settings where `qwen3.5-omni` keeps them flat. A dialect states those
//! differences once, as a table of [`ModelFamily`] rows in its own adapter
//! folder, and every layer (codec, capabilities, mock responder) reads the row
//! [`family_for`] picks — never `if model == …` in code.
//!
//! ```
//! use understudy_adapters::registry::models::{family_for, ModelFamily};
//!
//! struct Family { prefixes: &'static [&'static str], tools: bool }
//! impl ModelFamily for Family {
//!     fn prefixes(&self) -> &'static [&'static str] { self.prefixes }
//! }
//! static FAMILIES: &[Family] = &[
//!     Family { prefixes: &["qwen3-omni"], tools: false },
//!     Family { prefixes: &["qwen3.5-omni", "qwen3.8-omni"], tools: true },
//!     Family { prefixes: &[""], tools: false }, // the fallback row
//! ];
//! assert!(family_for(FAMILIES, "qwen3.8-omni-flash-realtime").tools);
//! assert!(!family_for(FAMILIES, "qwen-omni-turbo-realtime").tools);
//! ```

/// One row of a dialect's model table: the model-name prefixes it covers.
pub trait ModelFamily {
    /// Model-id prefixes this row covers (`gemini-3.8-live`). The empty
    /// prefix matches every model and makes the row the table's fallback.
    fn prefixes(&self) -> &'static [&'static str];
}

/// The bare model id in `model`: without Gemini's `models/` resource prefix
/// or a Vertex `projects/…/publishers/google/models/` path, trimmed.
pub fn model_id(model: &str) -> &str {
    let model = model.trim();
    model.rsplit_once('/').map_or(model, |(_, id)| id)
}

/// The row of `table` whose prefix is the longest one that starts the model's
/// id ([`model_id`]), so `gemini-3.8-live-extended-thinking` finds its own row
/// before `gemini-3.8-live`'s.
///
/// # Panics
///
/// When no row matches. Give every table a fallback row (prefix `""`); a
/// unit test per table pins that it has one, so a model name from the wire
/// can never reach this panic.
pub fn family_for<'t, F: ModelFamily>(table: &'t [F], model: &str) -> &'t F {
    try_family_for(table, model).unwrap_or_else(|| {
        panic!("model table without a fallback row (prefix \"\") cannot place `{model}`")
    })
}

/// The row [`family_for`] would pick, or `None` when no prefix matches.
pub fn try_family_for<'t, F: ModelFamily>(table: &'t [F], model: &str) -> Option<&'t F> {
    let id = model_id(model);
    table
        .iter()
        .filter_map(|row| {
            row.prefixes()
                .iter()
                .filter(|p| id.starts_with(**p))
                .map(|p| p.len())
                .max()
                .map(|len| (len, row))
        })
        .max_by_key(|(len, _)| *len)
        .map(|(_, row)| row)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Row(&'static [&'static str], u8);
    impl ModelFamily for Row {
        fn prefixes(&self) -> &'static [&'static str] {
            self.0
        }
    }
    static TABLE: &[Row] = &[
        Row(&[""], 0),
        Row(&["gemini-3.8-live"], 1),
        Row(&["gemini-3.8-live-extended-thinking"], 2),
        Row(
            &[
                "gemini-2.5-flash-native-audio",
                "gemini-live-2.5-flash-native-audio",
            ],
            3,
        ),
    ];

    #[test]
    fn the_longest_prefix_wins_whatever_the_row_order() {
        assert_eq!(family_for(TABLE, "gemini-3.8-live").1, 1);
        assert_eq!(family_for(TABLE, "gemini-3.8-live-extended-thinking").1, 2);
        assert_eq!(family_for(TABLE, "gemini-live-2.5-flash-native-audio").1, 3);
    }

    #[test]
    fn resource_paths_are_reduced_to_the_model_id() {
        assert_eq!(family_for(TABLE, "models/gemini-3.8-live").1, 1);
        assert_eq!(
            family_for(
                TABLE,
                "projects/p/locations/us-central1/publishers/google/models/gemini-3.8-live"
            )
            .1,
            1
        );
    }

    #[test]
    fn an_unknown_model_falls_back_and_a_table_without_fallback_says_none() {
        assert_eq!(family_for(TABLE, "gemini-9-live").1, 0);
        assert!(try_family_for(&TABLE[1..], "gemini-9-live").is_none());
    }
}
