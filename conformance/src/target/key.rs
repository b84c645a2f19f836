//! Where a target's API key comes from: an environment variable, never the
//! command line (which other users of the machine and shell histories see),
//! and never printed.
//!
//! `--key-env VAR` names the variable; without it the variables the dialect's
//! provider declares in the registry (`OPENAI_API_KEY`, `GEMINI_API_KEY`, …)
//! are tried in order. A named variable that is unset is an error; when none
//! of the provider's is set, sessions get a placeholder key, which our mocks
//! and most gateways under test take.

use crate::drive::ApiKey;
use understudy_adapters::DialectSpec;

/// A key was asked for by variable name, but the variable holds none.
#[derive(Debug, thiserror::Error)]
#[error("the environment variable {var} (named by --key-env) is not set or empty")]
pub struct KeyError {
    /// The variable named.
    pub var: String,
}

/// The key found, and which variable held it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundKey {
    /// The key (redacted when printed).
    pub key: ApiKey,
    /// The variable it came from.
    pub var: String,
}

/// The key for `dialect`: from the variable `named` if given, else from the
/// first of its provider's key variables that is set. `lookup` reads a
/// variable (the process environment in use; a map in tests).
pub fn resolve(
    dialect: &DialectSpec,
    named: Option<&str>,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Option<FoundKey>, KeyError> {
    let found = |var: &str| {
        lookup(var)
            .filter(|value| !value.trim().is_empty())
            .map(|value| FoundKey {
                key: ApiKey::new(value.trim()),
                var: var.to_owned(),
            })
    };
    if let Some(var) = named {
        return found(var).map(Some).ok_or_else(|| KeyError {
            var: var.to_owned(),
        });
    }
    let vars = dialect.provider_spec().key_env_vars;
    let key = vars.iter().find_map(|var| found(var));
    if key.is_none() {
        tracing::info!(
            dialect = dialect.id,
            "none of {vars:?} is set; sessions get a placeholder key"
        );
    }
    Ok(key)
}

/// [`resolve`] against the process environment.
pub fn from_env(dialect: &DialectSpec, named: Option<&str>) -> Result<Option<FoundKey>, KeyError> {
    resolve(dialect, named, |var| std::env::var(var).ok())
}

#[cfg(test)]
mod tests {
    use super::resolve;
    use std::collections::HashMap;
    use understudy_adapters::registry;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |var| map.get(var).cloned()
    }

    #[test]
    fn the_named_variable_wins_and_an_unset_one_is_an_error() {
        let dialect = registry::dialect("openai-ga").unwrap();
        let lookup = env(&[("MY_GATEWAY_KEY", "sk-gw"), ("OPENAI_API_KEY", "sk-openai")]);
        let found = resolve(dialect, Some("MY_GATEWAY_KEY"), &lookup)
            .unwrap()
            .unwrap();
        assert_eq!(
            (found.key.expose(), found.var.as_str()),
            ("sk-gw", "MY_GATEWAY_KEY")
        );
        let error = resolve(dialect, Some("UNSET_KEY"), &lookup).unwrap_err();
        assert!(error.to_string().contains("UNSET_KEY"), "{error}");
    }

    #[test]
    fn without_a_name_the_providers_variables_are_tried_and_none_is_no_key() {
        let dialect = registry::dialect("openai-ga").unwrap();
        let var = dialect.provider_spec().key_env_vars[0];
        let found = resolve(dialect, None, env(&[(var, "sk-openai")]))
            .unwrap()
            .unwrap();
        assert_eq!(found.key.expose(), "sk-openai");
        assert_eq!(resolve(dialect, None, env(&[(var, "  ")])).unwrap(), None);
        let gemini = registry::dialect("gemini-live").unwrap();
        assert_eq!(
            resolve(gemini, None, env(&[(var, "sk-openai")])).unwrap(),
            None
        );
    }

    #[test]
    fn a_key_never_shows_in_debug_output() {
        let dialect = registry::dialect("openai-ga").unwrap();
        let found = resolve(dialect, Some("K"), env(&[("K", "sk-secret-123")])).unwrap();
        let printed = format!("{found:?}");
        assert!(!printed.contains("sk-secret-123"), "{printed}");
    }
}
