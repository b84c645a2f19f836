//! Which tool answers a delegated request: [`route`] reads the agent's
//! [`DelegationRoute`] against its tools and says which one runs, or why
//! none can. The runner starts the call (or reports the refusal as the
//! call's error result).
//!
//! A dialect that delegates (`Capabilities::delegated_tools`, GPT-Live
//! under client delegation) hands the application a request: the adapter's
//! tool call names no tool of the agent's (its name is the adapter's label,
//! `delegate` by default) and its arguments are the user's words, not
//! arguments the model wrote. So the agent does not look the call's name
//! up; the route chosen in the configuration does, and nothing is guessed.

use crate::realtime::config::DelegationRoute;
use crate::realtime::tools::ToolRegistry;

/// The tool that answers a delegated request under `route`, or the reason
/// none does (what the model and the front end are told).
pub(super) fn route(route: &DelegationRoute, tools: &ToolRegistry) -> Result<String, String> {
    match route {
        DelegationRoute::Tool(name) if tools.get(name).is_some() => Ok(name.clone()),
        DelegationRoute::Tool(name) => Err(format!(
            "no tool named `{name}` answers delegated requests: register one, or choose \
             another with AgentConfig::delegation"
        )),
        DelegationRoute::OnlyTool => {
            let names = tools.names();
            match names.as_slice() {
                [only] => Ok((*only).to_owned()),
                [] => Err(
                    "delegated requests go to the agent's only tool, and it has none".to_owned(),
                ),
                several => Err(format!(
                    "delegated requests go to the agent's only tool, but it has {} ({}): \
                     name one with DelegationRoute::Tool",
                    several.len(),
                    several.join(", ")
                )),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::realtime::tools::tool_fn;
    use serde_json::json;

    fn tools(names: &[&str]) -> ToolRegistry {
        names.iter().fold(ToolRegistry::new(), |registry, name| {
            registry.with(tool_fn(
                *name,
                "test",
                json!({"type": "object"}),
                |a| async { Ok(a) },
            ))
        })
    }

    #[test]
    fn a_named_route_needs_that_tool() {
        let named = DelegationRoute::default();
        assert_eq!(named, DelegationRoute::Tool("delegate".into()));
        assert_eq!(
            route(&named, &tools(&["delegate", "other"])).as_deref(),
            Ok("delegate")
        );
        let refused = route(&named, &tools(&["get_weather"])).unwrap_err();
        assert!(
            refused.contains("no tool named `delegate`")
                && refused.contains("AgentConfig::delegation"),
            "{refused}"
        );
    }

    #[test]
    fn the_only_tool_route_needs_exactly_one() {
        let only = DelegationRoute::OnlyTool;
        assert_eq!(
            route(&only, &tools(&["lookup_order"])).as_deref(),
            Ok("lookup_order")
        );
        assert!(route(&only, &tools(&[])).unwrap_err().contains("has none"));
        let several = route(&only, &tools(&["a", "b"])).unwrap_err();
        assert!(several.contains("has 2 (a, b)"), "{several}");
    }
}
