//! Tools the model may call: a trait with a JSON schema, a registry, and the
//! runner that executes calls concurrently with the conversation.
//!
//! A call never takes the agent down: an unknown tool, arguments that are not
//! JSON, a tool error, a panic or a timeout all become an error *result* that
//! the model is told about (`{"error": "..."}`), so the provider-side
//! conversation never keeps a dangling call.

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
use understudy_adapters::ToolSpec;

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
}

/// A [`Tool`] made of a name, a description, a schema and an async closure.
pub struct FnTool<F> {
    name: String,
    description: String,
    parameters: Value,
    call: F,
}

impl<F> std::fmt::Debug for FnTool<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FnTool")
            .field("name", &self.name)
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

    /// The tool declarations for [`understudy_adapters::SessionConfig::tools`].
    pub fn specs(&self) -> Vec<ToolSpec> {
        self.tools
            .values()
            .map(|t| ToolSpec {
                name: t.name().to_owned(),
                description: t.description().to_owned(),
                parameters: t.parameters(),
                behavior: None,
            })
            .collect()
    }
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
        let result = run(tool, &name, &arguments, timeout).await;
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
        });
    });
    task.abort_handle()
}

async fn run(
    tool: Option<Arc<dyn Tool>>,
    name: &str,
    arguments: &str,
    timeout: Duration,
) -> Result<ToolOutput, String> {
    let tool = tool.ok_or_else(|| format!("no tool named `{name}`"))?;
    let arguments: Value = if arguments.trim().is_empty() {
        Value::Object(Default::default())
    } else {
        serde_json::from_str(arguments).map_err(|e| format!("arguments are not valid JSON: {e}"))?
    };
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
