//! What the end of one VAD turn costs the respond engine, and its parts
//! (run by hand, in release: `cargo test --release -p understudy-mock
//! turn_cost -- --ignored --nocapture`). Prints; asserts only that the turn
//! was answered.

use super::Responder;
use crate::engine::SessionEngine;
use crate::responder_config::ANSWER_MS;
use crate::speech::KnownSpeech;
use crate::ResponderConfig;
use base64::Engine as _;
use std::time::{Duration, Instant as StdInstant};
use tokio::time::Instant;
use understudy_adapters::openai::Dialect;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[test]
#[ignore = "a measurement, run by hand in release"]
fn turn_cost() {
    let wav = understudy_fixtures::bundled::audio("user-weather-24k.wav").unwrap();
    let (mut pcm, rate) = understudy_fixtures::wav::read_pcm16(wav).unwrap();
    pcm.extend(vec![0u8; 48_000]);
    let chunks: Vec<String> = pcm
        .chunks(960)
        .map(|c| base64::engine::general_purpose::STANDARD.encode(c))
        .collect();
    let voice = crate::bundled_voice().unwrap();
    let (mut total, mut recognise, mut speak, mut appends) = (vec![], vec![], vec![], vec![]);
    for seed in 0..30 {
        let mut config = ResponderConfig::with_voice(voice.clone());
        config.pace = 1.0;
        let mut r = Responder::new(Dialect::Ga, "gpt-realtime", config, seed);
        let now = Instant::now();
        r.on_connect(now);
        let mut turned = false;
        for chunk in &chunks {
            let t = StdInstant::now();
            r.on_append(chunk, now);
            if r.has_deferred() {
                r.settle();
                total.push(t.elapsed());
                turned = true;
                break;
            }
            appends.push(t.elapsed());
        }
        assert!(turned, "the VAD ended the turn");
        let t = StdInstant::now();
        let heard = KnownSpeech::bundled().transcribe(&pcm, rate);
        recognise.push(t.elapsed());
        assert!(heard.is_some());
        let t = StdInstant::now();
        let said = crate::voice::speak(
            &voice,
            "You said: What is the weather like in Paris today?",
            rate,
            ANSWER_MS,
        );
        speak.push(t.elapsed());
        assert!(!said.is_empty());
    }
    println!(
        "turn end {:?}; of which recognition ~{:?}, voice ~{:?}; an ordinary append {:?}",
        median(total),
        median(recognise),
        median(speak),
        median(appends)
    );
}
