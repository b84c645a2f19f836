//! The Gemini respond engine, driven without a socket: per-model setup
//! checks, non-blocking calls and their scheduling, blocking calls cancelled
//! by new input, Extended Thinking's interaction status, multi-part
//! messages, history seeding, `contextUpdate` and custom vocabulary.

use super::*;
use crate::protocol::Protocol;
use crate::GeminiLiveSettings;

const WEATHER: &str = r#"{"name": "get_weather", "description": "w", "parameters": {"type": "OBJECT", "properties": {"city": {"type": "STRING"}}}}"#;

struct Session {
    responder: GeminiResponder,
    now: Instant,
    /// Every frame sent so far, as JSON (closes as `{"close": code, "reason"}`).
    sent: Vec<Value>,
}

impl Session {
    fn new(settings: GeminiLiveSettings, speed: f64) -> Self {
        let mut config = ResponderConfig::with_voice(Arc::from(vec![800i16; 24_000]));
        config.speed = speed;
        config.gemini = Box::new(settings);
        let mut responder = GeminiResponder::new(config, GeminiSettings::default(), true, 7);
        let now = Instant::now();
        responder.on_connect(now);
        Session {
            responder,
            now,
            sent: Vec::new(),
        }
    }

    /// A session set up with `setup` (the object inside `{"setup": …}`).
    fn with(setup: Value) -> Self {
        Self::with_settings(setup, GeminiLiveSettings::default())
    }

    fn with_settings(setup: Value, settings: GeminiLiveSettings) -> Self {
        let mut session = Session::new(settings, 1000.0);
        session.send(json!({ "setup": setup }));
        session
    }

    /// A session at real-time speed (180 ms to the first output, a text
    /// word every 20 ms), for tests that act while output is under way.
    fn real_time(setup: Value) -> Self {
        let mut session = Session::new(GeminiLiveSettings::default(), 1.0);
        session.send(json!({ "setup": setup }));
        session
    }

    /// The client sends `message` now.
    fn send(&mut self, message: Value) {
        let protocol = super::super::GeminiProtocol;
        let parsed = protocol
            .parse(&message.to_string(), 1 << 20)
            .expect("a valid client message");
        let summary = protocol.summarise(&parsed);
        self.responder.on_client_event(&parsed, &summary, self.now);
    }

    /// Lets `ms` of session time pass, collecting what goes out.
    fn run(&mut self, ms: u64) -> Vec<Value> {
        let until = self.now + Duration::from_millis(ms);
        let mut out = Vec::new();
        while let Some(deadline) = self.responder.next_deadline().filter(|d| *d <= until) {
            self.now = deadline.max(self.now);
            out.extend(self.responder.pop_due(self.now).into_iter().map(json_of));
        }
        self.now = until;
        out.extend(self.responder.pop_due(self.now).into_iter().map(json_of));
        self.sent.extend(out.iter().cloned());
        out
    }

    /// Runs until nothing more is scheduled (an hour at most).
    fn settle(&mut self) -> Vec<Value> {
        self.run(3_600_000)
    }
}

fn json_of(frame: Outgoing) -> Value {
    match frame {
        Outgoing::Binary { data, .. } => serde_json::from_slice(&data).expect("JSON"),
        Outgoing::Text { text, .. } => serde_json::from_str(&text).expect("JSON"),
        Outgoing::Close { code, reason } => json!({"close": code, "reason": reason}),
    }
}

/// `toolCall`, `serverContent.turnComplete`, … as the protocol names them.
fn kinds(frames: &[Value]) -> Vec<String> {
    frames
        .iter()
        .map(|f| super::super::GeminiProtocol.kind_of(f))
        .collect()
}

/// The text parts (not thoughts) said across `frames`.
fn said(frames: &[Value]) -> String {
    frames
        .iter()
        .flat_map(|f| {
            f["serverContent"]["modelTurn"]["parts"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter(|p| p["thought"] != json!(true))
        .filter_map(|p| p["text"].as_str().map(str::to_owned))
        .collect()
}

fn statuses(frames: &[Value]) -> Vec<Option<String>> {
    frames
        .iter()
        .filter(|f| f["serverContent"]["turnComplete"] == json!(true))
        .map(|f| {
            f["serverContent"]["interactionStatus"]
                .as_str()
                .map(str::to_owned)
        })
        .collect()
}

fn text_setup(model: &str, declaration: &str) -> Value {
    let declaration: Value = serde_json::from_str(declaration).unwrap();
    json!({"model": format!("models/{model}"),
           "generationConfig": {"responseModalities": ["TEXT"]},
           "tools": [{"functionDeclarations": [declaration]}]})
}

fn user(text: &str) -> Value {
    json!({"client_content": {"turns": [{"role": "user", "parts": [{"text": text}]}], "turnComplete": true}})
}

fn result(id: &str, scheduling: Option<&str>) -> Value {
    let mut response =
        json!({"id": id, "name": "get_weather", "response": {"output": {"tempC": 18}}});
    if let Some(scheduling) = scheduling {
        response["scheduling"] = json!(scheduling);
    }
    json!({"tool_response": {"functionResponses": [response]}})
}

fn call_id(frames: &[Value]) -> String {
    frames
        .iter()
        .find_map(|f| f["toolCall"]["functionCalls"][0]["id"].as_str())
        .expect("a toolCall")
        .to_owned()
}

fn position(frames: &[Value], what: impl Fn(&Value) -> bool) -> usize {
    frames.iter().position(what).expect("the frame is there")
}

#[test]
fn on_38_live_an_undeclared_behaviour_is_non_blocking_the_model_talks_on_and_answers_others() {
    let mut s = Session::with(text_setup("gemini-3.8-live", WEATHER));
    s.send(user("What's the weather in Paris?"));
    let first = s.settle();
    let id = call_id(&first);
    let after_call = &first[position(&first, |f| f.get("toolCall").is_some())..];
    assert_eq!(said(after_call), FILLER, "the model keeps talking");
    assert_eq!(
        kinds(after_call).last().map(String::as_str),
        Some("serverContent.turnComplete"),
        "and ends its turn with the call pending"
    );
    assert_eq!(
        statuses(&first),
        vec![None],
        "3.8 Live sends no interactionStatus"
    );
    // The user gets other answers while the call is pending.
    s.send(user("Remember that the code is 42."));
    let other = s.settle();
    assert_eq!(said(&other), "Noted: the code is 42.");
    // The result, WHEN_IDLE by default, is voiced when the model is idle.
    s.send(result(&id, None));
    let answer = s.settle();
    assert!(
        said(&answer).starts_with("Here is what I found"),
        "{answer:?}"
    );
}

#[test]
fn on_the_legacy_row_the_same_call_pauses_the_turn_as_before() {
    let mut s = Session::with(text_setup("gemini-live-2.5-flash-preview", WEATHER));
    s.send(user("What's the weather in Paris?"));
    let frames = s.settle();
    assert_eq!(kinds(&frames).last().map(String::as_str), Some("toolCall"));
    assert_eq!(said(&frames), "");
    // New input withdraws the call with a toolCallCancellation, as today.
    s.send(user("Never mind."));
    let frames = s.settle();
    assert_eq!(
        frames[0],
        json!({"toolCallCancellation": {"ids": [call_id(&s.sent)]}})
    );
}

#[test]
fn when_idle_waits_for_the_current_output_and_interrupt_cuts_it() {
    for (scheduling, cut) in [("WHEN_IDLE", false), ("INTERRUPT", true)] {
        let mut s = Session::real_time(text_setup("gemini-3.8-live", WEATHER));
        s.send(user("What's the weather in Paris?"));
        // Only the toolCall is out: the filler is still being said.
        let early = s.run(190);
        assert!(said(&early).is_empty(), "{early:?}");
        let id = call_id(&early);
        s.send(result(&id, Some(scheduling)));
        let rest = s.settle();
        let answer = position(&rest, |f| said(std::slice::from_ref(f)).starts_with("Here"));
        let before = &rest[..answer];
        assert_eq!(
            before
                .iter()
                .any(|f| f["serverContent"]["generationComplete"] == json!(true)),
            !cut,
            "{scheduling}: the filler finished only without INTERRUPT: {before:?}"
        );
        assert_eq!(
            before
                .iter()
                .any(|f| f["serverContent"]["interrupted"] == json!(true)),
            cut,
            "{scheduling}"
        );
        assert!(
            kinds(before).contains(&"serverContent.turnComplete".to_owned()),
            "{scheduling}: the filler's turn ends before the answer"
        );
    }
}

#[test]
fn interrupt_waits_for_the_user_on_38_and_cuts_in_on_25() {
    for (model, waits) in [
        ("gemini-3.8-live", true),
        ("gemini-2.5-flash-native-audio-preview-12-2025", false),
    ] {
        let mut setup = text_setup(
            model,
            r#"{"name": "get_weather", "behavior": "NON_BLOCKING", "parameters": {"type": "OBJECT", "properties": {"city": {"type": "STRING"}}}}"#,
        );
        setup["realtimeInputConfig"] = json!({"automaticActivityDetection": {"disabled": true}});
        let mut s = Session::with(setup);
        s.send(user("What's the weather in Paris?"));
        let id = call_id(&s.settle());
        s.send(json!({"realtimeInput": {"activityStart": {}}}));
        s.send(result(&id, Some("INTERRUPT")));
        let while_speaking = s.settle();
        assert_eq!(
            said(&while_speaking).starts_with("Here is what I found"),
            !waits,
            "{model}: {while_speaking:?}"
        );
        s.send(json!({"realtimeInput": {"activityEnd": {}}}));
        let after = s.settle();
        if waits {
            let text = said(&after);
            assert!(
                text.starts_with("Here is what I found") && text.contains("I heard"),
                "{model}: the result first, then the answer to the user: {text}"
            );
        }
    }
}

#[test]
fn silent_results_say_nothing() {
    let mut s = Session::with(text_setup("gemini-3.8-live", WEATHER));
    s.send(user("What's the weather in Paris?"));
    let id = call_id(&s.settle());
    s.send(result(&id, Some("SILENT")));
    assert_eq!(s.settle(), Vec::<Value>::new());
}

#[test]
fn a_blocking_call_on_38_is_cancelled_by_new_input_and_its_late_response_ignored() {
    for frame in [false, true] {
        let settings = GeminiLiveSettings {
            blocking_cancel_frame: frame,
            ..GeminiLiveSettings::default()
        };
        let declaration = r#"{"name": "get_weather", "behavior": "BLOCKING", "parameters": {"type": "OBJECT", "properties": {"city": {"type": "STRING"}}}}"#;
        let mut s = Session::with_settings(text_setup("gemini-3.8-live", declaration), settings);
        s.send(user("What's the weather in Paris?"));
        let paused = s.settle();
        let id = call_id(&paused);
        assert_eq!(kinds(&paused).last().map(String::as_str), Some("toolCall"));
        s.send(user("Remember that the code is 42."));
        let next = s.settle();
        assert_eq!(
            next.iter().any(|f| f.get("toolCallCancellation").is_some()),
            frame,
            "the frame only when configured: {next:?}"
        );
        assert_eq!(said(&next), "Noted: the code is 42.");
        s.send(result(&id, None));
        assert_eq!(
            s.settle(),
            Vec::<Value>::new(),
            "the late response is ignored"
        );
    }
}

#[test]
fn extended_thinking_reports_in_progress_until_the_result_is_answered_then_idle() {
    let mut setup = text_setup("gemini-3.8-live-extended-thinking", WEATHER);
    setup["generationConfig"]["thinkingConfig"] =
        json!({"thinking_level": "LOW", "include_thoughts": true});
    let mut s = Session::with(setup);
    s.send(user("What's the weather in Paris?"));
    let first = s.settle();
    let id = call_id(&first);
    assert_eq!(said(&first), FILLER);
    assert_eq!(statuses(&first), vec![Some("IN_PROGRESS".to_owned())]);
    assert!(
        first
            .iter()
            .any(|f| f["serverContent"]["modelTurn"]["parts"][0]["thought"] == json!(true)),
        "includeThoughts adds thought parts"
    );
    s.send(result(&id, None));
    let answer = s.settle();
    assert!(said(&answer).starts_with("Here is what I found"));
    assert_eq!(statuses(&answer), vec![Some("IDLE".to_owned())]);
    s.send(user("Remember that the code is 42."));
    assert_eq!(statuses(&s.settle()), vec![Some("IDLE".to_owned())]);
}

#[test]
fn scheduling_on_extended_thinking_is_refused_only_when_configured() {
    for reject in [false, true] {
        let settings = GeminiLiveSettings {
            reject_scheduling_where_stripped: reject,
            ..GeminiLiveSettings::default()
        };
        let mut setup = text_setup("gemini-3.8-live-extended-thinking", WEATHER);
        setup["generationConfig"]["thinkingConfig"] = json!({"thinkingBudget": 256});
        let mut s = Session::with_settings(setup, settings);
        s.send(user("What's the weather in Paris?"));
        let id = call_id(&s.settle());
        s.send(result(&id, Some("INTERRUPT")));
        let closed = s.settle().iter().any(|f| f["close"] == json!(1007));
        assert_eq!(closed, reject);
    }
}

#[test]
fn an_unknown_scheduling_value_closes_1007() {
    let mut s = Session::with(text_setup("gemini-3.8-live", WEATHER));
    s.send(user("What's the weather in Paris?"));
    let id = call_id(&s.settle());
    s.send(result(&id, Some("INTERRUPTED")));
    assert_eq!(s.settle()[0]["close"], json!(1007));
}

#[test]
fn audio_and_its_transcript_share_messages_on_3x_only() {
    for (model, combined) in [
        ("gemini-3.8-live", true),
        ("gemini-3.1-flash-live-preview", true),
        ("gemini-live-2.5-flash-preview", false),
    ] {
        let mut s = Session::with(
            json!({"model": format!("models/{model}"), "outputAudioTranscription": {}}),
        );
        s.send(user("Hello there"));
        let frames = s.settle();
        let both = frames.iter().any(|f| {
            f["serverContent"].get("modelTurn").is_some()
                && f["serverContent"].get("outputTranscription").is_some()
        });
        assert_eq!(both, combined, "{model}");
    }
}

#[test]
fn refused_setups_close_or_stay_silent_as_the_model_does() {
    let cases = [
        (
            json!({"model": "models/gemini-3.8-live", "generationConfig": {"thinkingConfig": {"thinkingLevel": "LOW"}}}),
            Some(1007),
        ),
        (
            json!({"model": "models/gemini-3.8-live-extended-thinking"}),
            Some(1007),
        ),
        (
            json!({"model": "models/gemini-3.8-live", "generationConfig": {"responseModalities": ["VIDEO"]}}),
            Some(1008),
        ),
        (
            json!({"model": "models/gemini-3.1-flash-live-preview", "proactivity": {"proactiveAudio": true}}),
            None,
        ),
    ];
    for (setup, close) in cases {
        let mut s = Session::with(setup.clone());
        let frames = s.settle();
        match close {
            Some(code) => assert_eq!(frames[0]["close"], json!(code), "{setup}"),
            None => assert_eq!(frames, Vec::<Value>::new(), "no setupComplete: {setup}"),
        }
        // After a refusal nothing more is answered.
        s.send(user("Hello"));
        assert_eq!(s.settle(), Vec::<Value>::new());
    }
}

#[test]
fn the_new_setup_fields_are_accepted_in_both_spellings_and_not_echoed() {
    let capture = json!({"model": "models/gemini-3.8-live",
        "generationConfig": {"responseModalities": ["AUDIO"], "mediaResolution": "MEDIA_RESOLUTION_LOW"},
        "tools": [{"functionDeclarations": [
            {"description": "w", "name": "get_weather", "parameters": {"properties": {"city": {"type": "STRING"}}, "type": "OBJECT"}, "behavior": "BLOCKING"},
            {"name": "book", "behavior": "NON_BLOCKING"}]}],
        "sessionResumption": {},
        "inputAudioTranscription": {"language_codes": ["en-US"], "custom_vocabulary": ["Qwen", "SKU-42"]},
        "outputAudioTranscription": {},
        "realtimeInputConfig": {"interim_transcript_timestamp_enabled": true},
        "proactivity": {"proactive_audio": true},
        "historyConfig": {"initial_history_in_client_content": true},
        "avatarConfig": {"avatar_name": "ava", "video_bitrate_bps": 800000}});
    let mut s = Session::with(capture);
    let frames = s.settle();
    assert_eq!(frames[0], json!({"setupComplete": {}}));
}

#[test]
fn seeded_history_is_not_answered_and_is_remembered() {
    let mut s = Session::with(json!({"model": "models/gemini-3.1-flash-live-preview",
        "generationConfig": {"responseModalities": ["TEXT"]},
        "historyConfig": {"initialHistoryInClientContent": true}}));
    s.settle();
    s.send(json!({"client_content": {"turns": [
        {"role": "user", "parts": [{"text": "Remember that the code is 42."}]},
        {"role": "model", "parts": [{"text": "Noted: the code is 42."}]}], "turnComplete": true}}));
    assert_eq!(s.settle(), Vec::<Value>::new(), "history is not a request");
    s.send(user("What did I say the code is?"));
    assert_eq!(said(&s.settle()), "You said the code is 42.");
}

#[test]
fn a_context_update_replaces_the_tools_and_instructions() {
    let mut s = Session::with(text_setup("gemini-3.8-live", WEATHER));
    s.settle();
    s.send(json!({"contextUpdate": {"systemInstruction": {"parts": [{"text": "be brief"}], "role": "user"}, "tools": {"tools": []}}}));
    s.send(user("What's the weather in Paris?"));
    let frames = s.settle();
    assert!(
        frames.iter().all(|f| f.get("toolCall").is_none()),
        "{frames:?}"
    );
    assert_eq!(s.responder.instructions.as_deref(), Some("be brief"));
}

#[test]
fn custom_vocabulary_sets_the_spelling_of_whole_words() {
    let vocabulary = vec!["PARIS".to_owned(), "SKU-42".to_owned()];
    assert_eq!(
        bias("the weather in paris, and sku-42 ", &vocabulary),
        "the weather in PARIS, and SKU-42 "
    );
    assert_eq!(bias("parisian", &vocabulary), "parisian");
}
