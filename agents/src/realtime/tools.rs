//! Tools the model may call: a trait with a JSON schema, a registry, and the
//! runner that executes calls concurrently with the conversation.
//!
//! A call never takes the agent down: an unknown tool, arguments that are not
//! JSON, a tool error, a panic or a timeout all become an error *result* that
//! the model is told about (`{"error": "..."}`), so the provider-side
//! conversation never keeps a dangling call.
//!
//! Where the model runs calls in the background (Gemini 3.8 Live), each
//! tool says how it wants to be run ([`Tool::behavior`]: blocking or not;
//! by default the model's own default, read from its capabilities) and when
//! its result is voiced ([`Tool::scheduling`], overridable per call by
//! [`Tool::scheduling_for`]; `WHEN_IDLE` by default).

use futures_util::FutureExt;
use serde_json::Value;
use std::collections::BTreeMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::AbortHandle;
use understudy_adapters::{Capabilities, ToolBehavior, ToolResultScheduling, ToolSpec};

/// What a tool call returns: any JSON value. A string is sent to the model as
/// it is; anything else as JSON text.
pub type ToolOutput = Value;

/// The future a [`Tool`] returns (boxed so tools can live in a registry as
/// trait objects).
pub type ToolFuture = Pin<Box<dyn Future<Output = Result<ToolOutput, ToolError>> + Send>>;

/// Why a tool call failed. The message is what the model is told.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ToolError {
    /// The arguments do not fit the tool's schema.
    #[error("invalid arguments: {0}")]
    InvalidArguments(String),
    /// The tool ran and failed.
    #[error("{0}")]
    Failed(String),
}

/// A function the model may call.
///
/// Implement it for a type, or build one from a closure with [`tool_fn`].
pub trait Tool: Send + Sync + 'static {
    /// The name the model calls it by.
    fn name(&self) -> &str;
    /// What it does, for the model.
    fn description(&self) -> &str;
    /// JSON Schema of the arguments object.
    fn parameters(&self) -> Value;
    /// Runs one call with the parsed arguments.
    fn call(&self, arguments: Value) -> ToolFuture;

    /// How the model should run calls of this tool where it can run them in
    /// the background: [`ToolBehavior::Blocking`] pauses the model's turn
    /// until the result is in (and new input cancels the call),
    /// [`ToolBehavior::NonBlocking`] lets the conversation go on. `None` (the
    /// default): the model's default, as its capabilities say
    /// ([`ToolRegistry::specs_for`]).
    fn behavior(&self) -> Option<ToolBehavior> {
        None
    }

    /// When the model voices this tool's results (a background call's
    /// `scheduling`): the tool's default, [`ToolResultScheduling::WhenIdle`]
    /// unless it says otherwise. Sent only where the model honours it.
    fn scheduling(&self) -> ToolResultScheduling {
        ToolResultScheduling::WhenIdle
    }

    /// When the model voices the result of one call, given its arguments and
    /// what it returned (or why it failed): [`Tool::scheduling`] unless the
    /// tool decides per call (say, `INTERRUPT` for an urgent failure,
    /// `SILENT` for a result only the context needs).
    fn scheduling_for(
        &self,
        arguments: &Value,
        result: &Result<ToolOutput, String>,
    ) -> ToolResultScheduling {
        let _ = (arguments, result);
        self.scheduling()
    }
}

/// A per-call scheduling decision for an [`FnTool`] (see
/// [`Tool::scheduling_for`]).
pub type SchedulingFn =
    Arc<dyn Fn(&Value, &Result<ToolOutput, String>) -> ToolResultScheduling + Send + Sync>;

/// A [`Tool`] made of a name, a description, a schema and an async closure.
pub struct FnTool<F> {
    name: String,
    description: String,
    parameters: Value,
    call: F,
    behavior: Option<ToolBehavior>,
    scheduling: ToolResultScheduling,
    scheduling_for: Option<SchedulingFn>,
}

impl<F> std::fmt::Debug for FnTool<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FnTool")
            .field("name", &self.name)
            .field("behavior", &self.behavior)
            .field("scheduling", &self.scheduling)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Tool`] from an async closure taking the arguments object.
pub fn tool_fn<F, Fut>(
    name: impl Into<String>,
    description: impl Into<String>,
    parameters: Value,
    call: F,
) -> FnTool<F>
where
    F: Fn(Value) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<ToolOutput, ToolError>> + Send + 'static,
{
    FnTool {
        name: name.into(),
        description: description.into(),
        parameters,
        call,
        behavior: None,
        scheduling: ToolResultScheduling::WhenIdle,
        scheduling_for: None,
    }
}

impl<F> FnTool<F> {
    /// Declares how the model runs this tool's calls (see [`Tool::behavior`]).
    pub fn with_behavior(mut self, behavior: ToolBehavior) -> Self {
        self.behavior = Some(behavior);
        self
    }

    /// Sets when the model voices this tool's results by default (see
    /// [`Tool::scheduling`]).
    pub fn with_scheduling(mut self, scheduling: ToolResultScheduling) -> Self {
        self.scheduling = scheduling;
        self
    }

    /// Decides the scheduling per call from its arguments and result (see
    /// [`Tool::scheduling_for`]).
    pub fn with_scheduling_for(
        mut self,
        decide: impl Fn(&Value, &Result<ToolOutput, String>) -> ToolResultScheduling
            + Send
            + Sync
            + 'static,
    ) -> Self {
        self.scheduling_for = Some(Arc::new(decide));
        self
    }
}

impl<F, Fut> Tool for FnTool<F>
where
    F: Fn(Value) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<ToolOutput, ToolError>> + Send + 'static,
{
    fn name(&self) -> &str {
        &self.name
    }

    fn description(&self) -> &str {
        &self.description
    }

    fn parameters(&self) -> Value {
        self.parameters.clone()
    }

    fn call(&self, arguments: Value) -> ToolFuture {
        Box::pin((self.call)(arguments))
    }

    fn behavior(&self) -> Option<ToolBehavior> {
        self.behavior
    }

    fn scheduling(&self) -> ToolResultScheduling {
        self.scheduling
    }

    fn scheduling_for(
        &self,
        arguments: &Value,
        result: &Result<ToolOutput, String>,
    ) -> ToolResultScheduling {
        match &self.scheduling_for {
            Some(decide) => decide(arguments, result),
            None => self.scheduling,
        }
    }
}

/// The tools an agent offers, by name.
#[derive(Clone, Default)]
pub struct ToolRegistry {
    tools: BTreeMap<String, Arc<dyn Tool>>,
}

impl std::fmt::Debug for ToolRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.tools.keys()).finish()
    }
}

impl ToolRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a tool (replacing one of the same name) and returns the registry.
    pub fn with(mut self, tool: impl Tool) -> Self {
        self.register(Arc::new(tool));
        self
    }

    /// Adds a shared tool, replacing one of the same name.
    pub fn register(&mut self, tool: Arc<dyn Tool>) {
        self.tools.insert(tool.name().to_owned(), tool);
    }

    /// The tool called `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<dyn Tool>> {
        self.tools.get(name)
    }

    /// The tools' names, in order.
    pub fn names(&self) -> Vec<&str> {
        self.tools.keys().map(String::as_str).collect()
    }

    /// Whether there are no tools.
    pub fn is_empty(&self) -> bool {
        self.tools.is_empty()
    }

    /// The tool declarations for [`understudy_adapters::SessionConfig::tools`],
    /// each with the behaviour its tool asks for and no default (the
    /// adapter's); [`ToolRegistry::specs_for`] stamps the model's default.
    pub fn specs(&self) -> Vec<ToolSpec> {
        self.tools
            .values()
            .map(|t| ToolSpec {
                name: t.name().to_owned(),
                description: t.description().to_owned(),
                parameters: t.parameters(),
                behavior: t.behavior(),
            })
            .collect()
    }

    /// The tool declarations for a session whose model has `caps`: where
    /// the model runs calls in the background by default
    /// (`tool_calls_non_blocking`), every declaration carries a behaviour —
    /// the tool's own, else non-blocking — so that none relies on an
    /// unstated default; elsewhere only what a tool asks for is declared.
    pub fn specs_for(&self, caps: &Capabilities) -> Vec<ToolSpec> {
        self.specs()
            .into_iter()
            .map(|spec| ToolSpec {
                behavior: declared(spec.behavior, caps),
                ..spec
            })
            .collect()
    }

    /// The behaviour [`ToolRegistry::specs_for`] declares for the tool
    /// `name` to a model with `caps` (`None`: none declared, or no such tool).
    pub fn behavior_for(&self, name: &str, caps: &Capabilities) -> Option<ToolBehavior> {
        self.get(name).and_then(|t| declared(t.behavior(), caps))
    }
}

/// The behaviour declared for a tool asking for `asked` to a model with
/// `caps`: what it asks for, else non-blocking where that is the model's
/// default.
fn declared(asked: Option<ToolBehavior>, caps: &Capabilities) -> Option<ToolBehavior> {
    asked.or(caps
        .tool_calls_non_blocking
        .then_some(ToolBehavior::NonBlocking))
}

/// The end of one call, as the runner reports it to the agent.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CallOutcome {
    pub call_id: String,
    pub name: String,
    /// The text the model gets.
    pub output: String,
    /// Whether `output` describes a failure.
    pub is_error: bool,
    /// When the model should voice it, as the tool decided for this call.
    pub scheduling: ToolResultScheduling,
}

/// Starts one call on its own task; its outcome arrives on `done`. The
/// returned handle aborts it (a call the provider withdrew).
pub(crate) fn spawn_call(
    registry: &ToolRegistry,
    call_id: String,
    name: String,
    arguments: String,
    timeout: Duration,
    done: mpsc::UnboundedSender<CallOutcome>,
) -> AbortHandle {
    let tool = registry.get(&name).cloned();
    let task = tokio::spawn(async move {
        let (parsed, result) = run(tool.clone(), &name, &arguments, timeout).await;
        let scheduling = match &tool {
            Some(tool) => tool.scheduling_for(&parsed, &result),
            None => ToolResultScheduling::WhenIdle,
        };
        let (output, is_error) = match result {
            Ok(Value::String(text)) => (text, false),
            Ok(value) => (value.to_string(), false),
            Err(message) => {
                tracing::warn!(tool = %name, %call_id, %message, "tool call failed");
                (serde_json::json!({ "error": message }).to_string(), true)
            }
        };
        let _ = done.send(CallOutcome {
            call_id,
            name,
            output,
            is_error,
            scheduling,
        });
    });
    task.abort_handle()
}

/// Runs one call: its parsed arguments (`null` when they are not JSON) and
/// its result.
async fn run(
    tool: Option<Arc<dyn Tool>>,
    name: &str,
    arguments: &str,
    timeout: Duration,
) -> (Value, Result<ToolOutput, String>) {
    let parsed: Result<Value, String> = if arguments.trim().is_empty() {
        Ok(Value::Object(Default::default()))
    } else {
        serde_json::from_str(arguments).map_err(|e| format!("arguments are not valid JSON: {e}"))
    };
    let Some(tool) = tool else {
        return (
            parsed.unwrap_or(Value::Null),
            Err(format!("no tool named `{name}`")),
        );
    };
    match parsed {
        Ok(arguments) => {
            let result = call(tool, arguments.clone(), name, timeout).await;
            (arguments, result)
        }
        Err(error) => (Value::Null, Err(error)),
    }
}

async fn call(
    tool: Arc<dyn Tool>,
    arguments: Value,
    name: &str,
    timeout: Duration,
) -> Result<ToolOutput, String> {
    let call = AssertUnwindSafe(tool.call(arguments)).catch_unwind();
    match tokio::time::timeout(timeout, call).await {
        Err(_) => Err(format!(
            "`{name}` timed out after {} ms",
            timeout.as_millis()
        )),
        Ok(Err(panic)) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Err(format!("`{name}` crashed: {what}"))
        }
        Ok(Ok(result)) => result.map_err(|e| e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn registry() -> ToolRegistry {
        ToolRegistry::new()
            .with(tool_fn(
                "echo",
                "Echoes its input",
                json!({"type": "object"}),
                |args| async move { Ok(args) },
            ))
            .with(tool_fn(
                "boom",
                "Panics",
                json!({"type": "object"}),
                |_| async move { panic!("kaboom") },
            ))
            .with(tool_fn(
                "fails",
                "Fails",
                json!({"type": "object"}),
                |_| async move { Err(ToolError::Failed("no network".into())) },
            ))
    }

    async fn call(name: &str, args: &str) -> CallOutcome {
        let (tx, mut rx) = mpsc::unbounded_channel();
        spawn_call(
            &registry(),
            "c1".into(),
            name.into(),
            args.into(),
            Duration::from_secs(5),
            tx,
        );
        rx.recv().await.expect("an outcome")
    }

    #[test]
    fn specs_carry_name_description_and_schema() {
        let specs = registry().specs();
        let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["boom", "echo", "fails"]);
        assert_eq!(specs[1].parameters, json!({"type": "object"}));
    }

    fn caps(non_blocking: bool) -> Capabilities {
        let mut caps = understudy_adapters::gemini::capabilities();
        caps.tool_calls_non_blocking = non_blocking;
        caps
    }

    #[test]
    fn every_tool_declares_a_behavior_where_the_model_runs_calls_in_the_background() {
        let tools = registry().with(
            tool_fn("pay", "Pays", json!({"type": "object"}), |_| async move {
                Ok(json!("paid"))
            })
            .with_behavior(ToolBehavior::Blocking),
        );
        let behaviors = |caps: &Capabilities| -> Vec<(String, Option<ToolBehavior>)> {
            tools
                .specs_for(caps)
                .into_iter()
                .map(|s| (s.name, s.behavior))
                .collect()
        };
        let background = behaviors(&caps(true));
        assert!(
            background.iter().all(|(name, b)| match name.as_str() {
                "pay" => *b == Some(ToolBehavior::Blocking),
                _ => *b == Some(ToolBehavior::NonBlocking),
            }),
            "{background:?}"
        );
        let plain = behaviors(&caps(false));
        assert!(
            plain.iter().all(|(name, b)| match name.as_str() {
                "pay" => *b == Some(ToolBehavior::Blocking),
                _ => b.is_none(),
            }),
            "only what a tool asks for: {plain:?}"
        );
        assert_eq!(
            tools.behavior_for("echo", &caps(true)),
            Some(ToolBehavior::NonBlocking)
        );
        assert_eq!(tools.behavior_for("nope", &caps(true)), None);
    }

    #[tokio::test]
    async fn a_result_is_scheduled_by_its_tool_and_per_call() {
        let tools = ToolRegistry::new()
            .with(tool_fn(
                "plain",
                "Default",
                json!({"type": "object"}),
                |_| async move { Ok(json!(1)) },
            ))
            .with(
                tool_fn(
                    "note",
                    "Silent",
                    json!({"type": "object"}),
                    |_| async move { Ok(json!(2)) },
                )
                .with_scheduling(ToolResultScheduling::Silent),
            )
            .with(
                tool_fn(
                    "alarm",
                    "Per call",
                    json!({"type": "object"}),
                    |args| async move { Ok(args) },
                )
                .with_scheduling_for(|args, _| {
                    if args["urgent"] == json!(true) {
                        ToolResultScheduling::Interrupt
                    } else {
                        ToolResultScheduling::Silent
                    }
                }),
            );
        let scheduled = |name: &'static str, args: &'static str| {
            let tools = tools.clone();
            async move {
                let (tx, mut rx) = mpsc::unbounded_channel();
                spawn_call(
                    &tools,
                    "c1".into(),
                    name.into(),
                    args.into(),
                    Duration::from_secs(5),
                    tx,
                );
                rx.recv().await.expect("an outcome").scheduling
            }
        };
        assert_eq!(
            scheduled("plain", "{}").await,
            ToolResultScheduling::WhenIdle
        );
        assert_eq!(scheduled("note", "{}").await, ToolResultScheduling::Silent);
        assert_eq!(
            scheduled("alarm", r#"{"urgent":true}"#).await,
            ToolResultScheduling::Interrupt
        );
        assert_eq!(
            scheduled("alarm", r#"{"urgent":false}"#).await,
            ToolResultScheduling::Silent
        );
        assert_eq!(
            scheduled("nope", "{}").await,
            ToolResultScheduling::WhenIdle,
            "an unknown tool's error result"
        );
    }

    #[tokio::test]
    async fn every_failure_becomes_an_error_result() {
        let ok = call("echo", r#"{"a":1}"#).await;
        assert_eq!((ok.output.as_str(), ok.is_error), (r#"{"a":1}"#, false));
        for (name, args, needle) in [
            ("boom", "{}", "kaboom"),
            ("fails", "{}", "no network"),
            ("nope", "{}", "no tool named"),
            ("echo", "{not json", "not valid JSON"),
        ] {
            let out = call(name, args).await;
            assert!(out.is_error, "{name}");
            assert!(out.output.contains(needle), "{name}: {}", out.output);
            let parsed: Value = serde_json::from_str(&out.output).unwrap();
            assert!(parsed["error"].is_string());
        }
    }
}
