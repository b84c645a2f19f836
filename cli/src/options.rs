//! Parsers for numeric and fault options, shared by the subcommands, so that
//! a bad value is refused by clap with a clear message before anything runs.

use understudy_mock::SetupFault;

/// A timing factor: positive and finite (`--speed`, `--mock-speed`). NaN or
/// zero would make every answer wait forever.
pub fn speed(text: &str) -> Result<f64, String> {
    let value = number(text)?;
    understudy_mock::MockServerBuilder::check_speed(value).map_err(|e| e.to_string())
}

/// A duration in seconds: positive and finite (`--session-limit`,
/// `--connection-limit`, `--connect-timeout`).
pub fn seconds(text: &str) -> Result<f64, String> {
    let value = number(text)?;
    if value.is_finite() && value > 0.0 && value < 1e12 {
        Ok(value)
    } else {
        Err(format!(
            "{value} is not a positive, finite number of seconds"
        ))
    }
}

/// A DashScope set-up fault name (`--fault`).
pub fn fault(name: &str) -> Result<SetupFault, String> {
    SetupFault::parse_or_explain(name)
}

fn number(text: &str) -> Result<f64, String> {
    text.trim()
        .parse::<f64>()
        .map_err(|e| format!("`{text}` is not a number: {e}"))
}

/// The warning a server prints when it binds `host` and `host` is not a
/// loopback address: who can now reach it, and `exposed`, what they get.
/// `None` on loopback (nothing is exposed beyond this machine).
pub fn exposure_warning(host: std::net::IpAddr, exposed: &str) -> Option<String> {
    (!host.is_loopback())
        .then(|| format!("warning: listening on {host}: reachable from other machines. {exposed}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_positive_finite_values_pass() {
        assert_eq!(speed("2"), Ok(2.0));
        assert_eq!(seconds("0.5"), Ok(0.5));
        for bad in ["nan", "NaN", "inf", "-inf", "0", "-1", "x"] {
            assert!(speed(bad).is_err(), "{bad}");
            assert!(seconds(bad).is_err(), "{bad}");
        }
        assert!(speed("nan").unwrap_err().contains("positive, finite"));
    }

    #[test]
    fn fault_names_are_listed_when_wrong() {
        assert_eq!(fault("setup-close"), Ok(SetupFault::Close));
        let error = fault("setup-boom").unwrap_err();
        assert!(
            error.contains("setup-error, setup-silent, setup-close"),
            "{error}"
        );
    }
}
