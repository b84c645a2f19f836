//! Plain HTTP answers in the mock, shared by every HTTP route (HTTP TTS in
//! [`crate::http_tts`], chat completions in [`crate::chat`]).
//!
//! - [`plan`]: an answer as data (status, headers, body pieces with delays)
//!   and the one transport that plays it, journalling each piece;
//! - [`replay`]: HTTP cassettes (one `http_request` frame and the
//!   `http_response` that answered it) turned back into a plan at their
//!   recorded timing, the lenient matching of a request against the
//!   recording;
//! - `synthesize` (test builds): the writer of synthesized HTTP cassettes.
//!
//! Each route declares what must agree with the recording as data (a
//! [`replay::Matching`]); the replayer itself knows no dialect.

pub mod plan;
pub mod replay;
#[cfg(test)]
pub mod synthesize;

#[cfg(test)]
use crate::ResponderConfig;
#[cfg(test)]
use understudy_fixtures::Cassette;

/// Every bundled HTTP cassette (HTTP TTS and chat completions) with its name,
/// as the respond engine makes it with `config` (the bundled voice, default
/// pacing, for the files under `fixtures/cassettes`); the tests below keep
/// those files equal to it.
#[cfg(test)]
fn bundled_cassettes(config: &ResponderConfig) -> Vec<(&'static str, Cassette)> {
    let synth = crate::http_tts::synth::Synth::from_responder(config, 1.0);
    let mut cassettes = crate::http_tts::cassettes::bundled(&synth);
    cassettes.extend(crate::chat::cassettes::bundled(config));
    cassettes
}

#[cfg(test)]
mod tests {
    use super::*;
    use understudy_fixtures::Origin;

    fn config() -> ResponderConfig {
        ResponderConfig::with_voice(crate::bundled_voice().unwrap())
    }

    #[test]
    fn the_bundled_http_cassettes_are_what_the_respond_engine_answers() {
        for (name, made) in bundled_cassettes(&config()) {
            let bundled = understudy_fixtures::bundled::cassette(name).unwrap_or_else(|e| {
                panic!("{name} is not bundled ({e}); regenerate it (write_bundled_http_cassettes)")
            });
            assert_eq!(bundled.header.dialect, made.header.dialect, "{name}");
            assert_eq!(bundled.header.origin, Origin::Synthesized, "{name}");
            assert!(
                bundled.frames == made.frames,
                "{name} differs from the respond engine's answer; regenerate it \
                 (cargo test -p understudy-mock --lib write_bundled_http_cassettes -- --ignored)"
            );
            assert!(bundled.validate().is_valid(), "{name}");
        }
    }

    #[test]
    #[ignore = "writes fixtures/cassettes; run to regenerate the bundled HTTP cassettes"]
    fn write_bundled_http_cassettes() {
        for (name, cassette) in bundled_cassettes(&config()) {
            // Unchanged files keep their `created_at`.
            if let Ok(bundled) = understudy_fixtures::bundled::cassette(name) {
                if bundled.frames == cassette.frames
                    && bundled.header.description == cassette.header.description
                {
                    eprintln!("{name} is unchanged");
                    continue;
                }
            }
            let path = std::path::Path::new(understudy_fixtures::bundled::SOURCE_CASSETTES_DIR)
                .join(format!("{name}.jsonl"));
            std::fs::write(&path, cassette.to_jsonl_inline().unwrap()).unwrap();
            eprintln!("wrote {}", path.display());
        }
    }
}
