//! The toolkit's own HTTP TTS adapters against the running mock, over real
//! sockets: both sides share the wire types, and here they must also agree on
//! the bytes, the pacing and the errors.

use crate::journal::EntryKind;
use crate::{MockServer, ResponderConfig};
use std::time::{Duration, Instant};
use understudy_adapters::tts::gemini_tts::{GeminiMethod, GeminiTts};
use understudy_adapters::tts::http::reqwest;
use understudy_adapters::tts::openai_speech::{OpenAiSpeech, SpeechFormat, SpeechStreaming};
use understudy_adapters::tts::{AudioChunk, TtsEngine, TtsError};

use super::synth::Synth;

fn config() -> ResponderConfig {
    let mut config = ResponderConfig::with_voice(crate::bundled_voice().unwrap());
    config.first_audio_ms = 150;
    config.pace = 0.1;
    config
}

async fn server() -> MockServer {
    MockServer::builder()
        .respond(config())
        .start()
        .await
        .unwrap()
}

async fn speak(engine: &dyn TtsEngine, units: &[&str]) -> (Vec<AudioChunk>, Option<TtsError>) {
    let mut utterance = engine.start().await.unwrap();
    for unit in units {
        utterance.input.push(*unit).unwrap();
    }
    utterance.input.finish().unwrap();
    let mut chunks = Vec::new();
    while let Some(item) = utterance.output.next_chunk().await {
        match item {
            Ok(chunk) => chunks.push(chunk),
            Err(error) => return (chunks, Some(error)),
        }
    }
    (chunks, None)
}

fn expected(units: &[&str]) -> Vec<u8> {
    let synth = Synth::from_responder(&config(), 1.0);
    units.iter().flat_map(|u| synth.pcm(u, 1.0)).collect()
}

fn joined(chunks: &[AudioChunk]) -> Vec<u8> {
    chunks
        .iter()
        .flat_map(|c| c.pcm.0.iter().copied())
        .collect()
}

fn with_header(name: &'static str, value: &'static str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(name, reqwest::header::HeaderValue::from_static(value));
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap()
}

#[tokio::test]
async fn the_openai_adapter_hears_exactly_the_synthesised_audio_in_every_format() {
    let server = server().await;
    let units = ["Hello there.", "How are you today?"];
    for (format, streaming) in [
        (SpeechFormat::Pcm, SpeechStreaming::Audio),
        (SpeechFormat::Wav, SpeechStreaming::Audio),
        (SpeechFormat::Pcm, SpeechStreaming::Sse),
        (SpeechFormat::Wav, SpeechStreaming::Sse),
    ] {
        let engine = OpenAiSpeech::builder()
            .base_url(format!("{}/v1", server.url()))
            .api_key("sk-test-understudy")
            .format(format)
            .streaming(streaming)
            .build()
            .unwrap();
        let started = Instant::now();
        let (chunks, error) = speak(&engine, &units).await;
        assert_eq!(error, None, "{format:?}/{streaming:?}");
        assert_eq!(
            joined(&chunks),
            expected(&units),
            "{format:?}/{streaming:?}"
        );
        assert!(chunks.len() > 2, "streamed in several chunks");
        assert!(chunks.iter().all(|c| c.format.sample_rate == 24_000));
        assert!(chunks[0].received_at.duration_since(started) >= Duration::from_millis(150));
    }
    let journal = server.journal();
    assert_eq!(journal.len(), 8, "one journal session per request");
    let first = &journal[0];
    assert_eq!(
        (first.dialect.as_str(), first.model.as_str()),
        ("openai-speech", "gpt-4o-mini-tts")
    );
    assert!(first.closed);
    assert!(first
        .find(EntryKind::Client, "POST /v1/audio/speech")
        .next()
        .unwrap()
        .detail
        .contains("Hello there."));
    assert!(first.find(EntryKind::Server, "audio").count() > 1);
    assert_eq!(first.find(EntryKind::Server, "http.end").count(), 1);
}

#[tokio::test]
async fn the_gemini_adapter_hears_the_audio_with_both_methods() {
    let server = server().await;
    for method in [GeminiMethod::Stream, GeminiMethod::Generate] {
        let engine = GeminiTts::builder()
            .base_url(server.url())
            .api_key("understudy-test-key")
            .method(method)
            .build()
            .unwrap();
        let (chunks, error) = speak(&engine, &["Have a wonderful day!"]).await;
        assert_eq!(error, None, "{method:?}");
        assert_eq!(
            joined(&chunks),
            expected(&["Have a wonderful day!"]),
            "{method:?}"
        );
        if method == GeminiMethod::Stream {
            assert!(chunks.len() > 1, "one event per chunk");
        }
    }
    let journal = server.journal();
    assert_eq!(journal[0].dialect, "gemini-tts");
    assert_eq!(journal[0].model, "gemini-2.5-flash-preview-tts");
}

#[tokio::test]
async fn first_audio_delay_is_configurable_per_request() {
    let server = server().await;
    let engine = OpenAiSpeech::builder()
        .base_url(format!("{}/v1", server.url()))
        .client(with_header("x-understudy-first-audio-ms", "600"))
        .build()
        .unwrap();
    let started = Instant::now();
    let (chunks, error) = speak(&engine, &["Hi."]).await;
    assert_eq!(error, None);
    let ttfa = chunks[0].received_at.duration_since(started);
    assert!(ttfa >= Duration::from_millis(600), "{ttfa:?}");
}

#[tokio::test]
async fn bad_requests_are_refused_the_providers_way_and_the_server_keeps_serving() {
    let server = MockServer::builder()
        .respond(config())
        .require_auth(vec!["sk-test-good".into()])
        .start()
        .await
        .unwrap();
    let openai = |key: &str| {
        OpenAiSpeech::builder()
            .base_url(format!("{}/v1", server.url()))
            .api_key(key)
    };
    let (_, error) = speak(&openai("sk-test-wrong").build().unwrap(), &["hi"]).await;
    assert!(
        matches!(&error, Some(TtsError::Http { status: 401, body }) if body.contains("invalid_api_key")),
        "{error:?}"
    );
    let (_, error) = speak(
        &openai("sk-test-good").voice("bob").build().unwrap(),
        &["hi"],
    )
    .await;
    assert!(
        matches!(&error, Some(TtsError::Http { status: 400, body }) if body.contains("\"param\":\"voice\"")),
        "{error:?}"
    );
    let (_, error) = speak(
        &openai("sk-test-good")
            .model("tts-1")
            .streaming(SpeechStreaming::Sse)
            .build()
            .unwrap(),
        &["hi"],
    )
    .await;
    assert!(
        matches!(&error, Some(TtsError::Http { status: 400, .. })),
        "{error:?}"
    );
    let long = "x".repeat(4097);
    let (_, error) = speak(&openai("sk-test-good").build().unwrap(), &[long.as_str()]).await;
    assert!(
        matches!(&error, Some(TtsError::Http { status: 400, body }) if body.contains("string_above_max_length")),
        "{error:?}"
    );
    let gemini = GeminiTts::builder()
        .base_url(server.url())
        .api_key("wrong")
        .build()
        .unwrap();
    let (_, error) = speak(&gemini, &["hi"]).await;
    assert!(
        matches!(&error, Some(TtsError::Http { status: 400, body }) if body.contains("API_KEY_INVALID")),
        "{error:?}"
    );
    let gemini = GeminiTts::builder()
        .base_url(server.url())
        .api_key("sk-test-good")
        .voice("Bob")
        .build()
        .unwrap();
    let (_, error) = speak(&gemini, &["hi"]).await;
    assert!(
        matches!(&error, Some(TtsError::Http { status: 400, body }) if body.contains("INVALID_ARGUMENT")),
        "{error:?}"
    );
    // Still serving.
    let (chunks, error) = speak(&openai("sk-test-good").build().unwrap(), &["fine"]).await;
    assert_eq!(error, None);
    assert_eq!(joined(&chunks), expected(&["fine"]));
}

#[tokio::test]
async fn a_dropped_connection_mid_stream_is_a_transport_error_after_some_audio() {
    let server = server().await;
    let engine = OpenAiSpeech::builder()
        .base_url(format!("{}/v1", server.url()))
        .client(with_header("x-understudy-fault", "drop-mid-stream"))
        .build()
        .unwrap();
    let (chunks, error) = speak(&engine, &["A sentence long enough to be cut in half."]).await;
    assert!(!chunks.is_empty());
    assert!(joined(&chunks).len() < expected(&["A sentence long enough to be cut in half."]).len());
    assert!(matches!(error, Some(TtsError::Transport(_))), "{error:?}");
}

#[tokio::test]
async fn cancelling_drops_the_request_and_the_journal_says_so() {
    let mut config = config();
    config.pace = 1.0;
    let server = MockServer::builder().respond(config).start().await.unwrap();
    let engine = GeminiTts::builder().base_url(server.url()).build().unwrap();
    let mut utterance = engine.start().await.unwrap();
    utterance
        .input
        .push("A long sentence that takes a few seconds to say out loud.")
        .unwrap();
    assert!(utterance.output.next_chunk().await.unwrap().is_ok());
    utterance.input.cancel().unwrap();
    assert!(
        tokio::time::timeout(Duration::from_millis(300), utterance.output.next_chunk())
            .await
            .unwrap()
            .is_none()
    );
    let aborted = tokio::time::timeout(Duration::from_secs(2), async {
        loop {
            let journal = server.journal();
            if journal[0].closed {
                return journal[0].find(EntryKind::Note, "http.aborted").count();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap();
    assert_eq!(aborted, 1);
}

async fn replay_server() -> MockServer {
    let cassettes: Vec<(String, understudy_fixtures::Cassette)> =
        understudy_fixtures::bundled::cassette_names()
            .into_iter()
            .map(|name| {
                (
                    name.to_owned(),
                    understudy_fixtures::bundled::cassette(name).unwrap(),
                )
            })
            .collect();
    MockServer::builder()
        .replay(&cassettes)
        .unwrap()
        .speed(4.0)
        .start()
        .await
        .unwrap()
}

fn bundled_synth() -> Synth {
    Synth::from_responder(
        &ResponderConfig::with_voice(crate::bundled_voice().unwrap()),
        1.0,
    )
}

#[tokio::test]
async fn the_replay_engine_plays_the_bundled_openai_cassette_to_the_adapter() {
    let server = replay_server().await;
    let engine = OpenAiSpeech::builder()
        .base_url(format!("{}/v1", server.url()))
        .build()
        .unwrap();
    let (chunks, error) = speak(&engine, &[super::cassettes::OPENAI_TEXT]).await;
    assert_eq!(error, None);
    assert_eq!(
        joined(&chunks),
        bundled_synth().pcm(super::cassettes::OPENAI_TEXT, 1.0)
    );
    assert!(chunks.len() > 2, "the recorded chunks, one by one");
    let journal = server.journal();
    let session = &journal[0];
    assert_eq!(
        (session.dialect.as_str(), session.engine.as_str()),
        ("openai-speech", "replay")
    );
    assert!(session
        .find(EntryKind::Note, "replay")
        .next()
        .unwrap()
        .detail
        .contains("openai/speech-pcm"));
    assert_eq!(session.find(EntryKind::Note, "replay.mismatch").count(), 0);
    // Another text is replayed anyway, and the journal says so.
    let (chunks, error) = speak(&engine, &["Something else entirely."]).await;
    assert_eq!(error, None);
    assert!(!chunks.is_empty());
    let mismatch = server.journal()[1]
        .find(EntryKind::Note, "replay.mismatch")
        .next()
        .cloned()
        .unwrap();
    assert!(mismatch.detail.starts_with("input"), "{mismatch:?}");
}

#[tokio::test]
async fn replay_refuses_an_answer_of_another_shape_and_falls_back_without_a_cassette() {
    let server = replay_server().await;
    let sse = OpenAiSpeech::builder()
        .base_url(format!("{}/v1", server.url()))
        .streaming(SpeechStreaming::Sse)
        .build()
        .unwrap();
    let (_, error) = speak(&sse, &["Hello there."]).await;
    assert!(
        matches!(&error, Some(TtsError::Http { status: 400, body }) if body.contains("replay_mismatch")),
        "{error:?}"
    );
    let generate = GeminiTts::builder()
        .base_url(server.url())
        .method(GeminiMethod::Generate)
        .build()
        .unwrap();
    let (_, error) = speak(&generate, &["Have a nice day."]).await;
    assert!(
        matches!(&error, Some(TtsError::Http { status: 400, body }) if body.contains("INVALID_ARGUMENT")),
        "{error:?}"
    );
    // A cassette that is not loaded: the respond engine answers, and the journal says why.
    let engine = OpenAiSpeech::builder()
        .base_url(format!("{}/v1", server.url()))
        .client(with_header(
            "x-understudy-cassette",
            "openai/no-such-cassette",
        ))
        .build()
        .unwrap();
    let (chunks, error) = speak(&engine, &["Hi."]).await;
    assert_eq!(error, None);
    assert_eq!(joined(&chunks), bundled_synth().pcm("Hi.", 1.0));
    let journal = server.journal();
    assert!(
        journal
            .last()
            .unwrap()
            .find(EntryKind::Note, "replay.none")
            .count()
            == 1
    );
}

#[tokio::test]
async fn the_replay_engine_plays_the_bundled_gemini_cassette_to_the_adapter() {
    let server = replay_server().await;
    let engine = GeminiTts::builder()
        .base_url(server.url())
        .client(with_header("x-understudy-cassette", "tts-stream"))
        .build()
        .unwrap();
    let (chunks, error) = speak(&engine, &[super::cassettes::GEMINI_TEXT]).await;
    assert_eq!(error, None);
    assert_eq!(
        joined(&chunks),
        bundled_synth().pcm(super::cassettes::GEMINI_TEXT, 1.0)
    );
    assert!(chunks.len() > 2);
}
