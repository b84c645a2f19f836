//! The stage-1 and stage-2 chat agents against the mock's chat completions and
//! TTS over real sockets: replies are heard, the conversation is kept, and the
//! timings a listener feels are reported.

use std::sync::Arc;
use understudy_adapters::chat::{ChatClient, Message};
use understudy_adapters::dashscope::tts::QwenTtsRealtime;
use understudy_agents::{OmniChatAgent, Speaker, TextVoiceAgent};
use understudy_mock::{MockServer, ResponderConfig};

async fn server() -> MockServer {
    MockServer::builder()
        .respond(ResponderConfig::with_voice(
            understudy_mock::bundled_voice().unwrap(),
        ))
        .speed(8.0)
        .start()
        .await
        .unwrap()
}

fn chat(base_url: String) -> ChatClient {
    ChatClient::builder()
        .base_url(base_url)
        .api_key("sk-test")
        .build()
        .unwrap()
}

#[tokio::test]
async fn stage_one_speaks_the_text_stream_and_keeps_the_conversation() {
    let server = server().await;
    let tts = Arc::new(QwenTtsRealtime::new(server.dashscope_url()).api_key("sk-test"));
    let mut agent = TextVoiceAgent::new(
        chat(format!("{}/v1", server.url())),
        "gpt-4o-mini",
        Speaker::new(tts),
        "You are terse.",
    );
    let first = agent.reply("Hello there, agent.").await.unwrap();
    assert!(
        first.text.contains("Hello there, agent."),
        "{:?}",
        first.text
    );
    assert_eq!(
        first.spoken.trim(),
        first.text.trim(),
        "plain prose is spoken as written"
    );
    assert!(first.audio_bytes() > 0);
    let (delta, sound, audio) = (
        first.time_to_first_delta.unwrap(),
        first.time_to_first_sound.unwrap(),
        first.time_to_first_audio.unwrap(),
    );
    assert!(
        audio >= delta && audio >= sound,
        "{delta:?} {sound:?} {audio:?}"
    );
    let second = agent.reply("And again.").await.unwrap();
    assert!(second.audio_bytes() > 0);
    let roles: Vec<String> = agent
        .history()
        .iter()
        .map(|m| m.role.as_str().to_owned())
        .collect();
    assert_eq!(roles, ["system", "user", "assistant", "user", "assistant"]);
}

#[tokio::test]
async fn stage_two_plays_the_omni_models_audio_on_both_dialects() {
    let server = server().await;
    for (base, model, by_id) in [
        (format!("{}/v1", server.url()), "gpt-4o-audio-preview", true),
        (
            format!("{}/compatible-mode/v1", server.url()),
            "qwen3-omni-flash",
            false,
        ),
    ] {
        let mut agent = OmniChatAgent::new(chat(base), model, "alloy", "You are terse.");
        let reply = agent.reply("Say something nice.").await.unwrap();
        assert!(
            reply.audio_bytes() > 24_000,
            "{model}: {} bytes",
            reply.audio_bytes()
        );
        assert!(!reply.text.is_empty(), "{model}: a transcript");
        assert!(reply.time_to_first_audio.is_some());
        let again = agent.reply("Once more.").await.unwrap();
        assert!(
            again.audio_bytes() > 0,
            "{model}: the second turn is answered"
        );
        let answer: &Message = &agent.history()[2];
        assert_eq!(answer.role.as_str(), "assistant");
        assert_eq!(
            answer.audio.is_some(),
            by_id,
            "{model}: an earlier spoken answer is remembered by id only where the service keeps it"
        );
    }
}
