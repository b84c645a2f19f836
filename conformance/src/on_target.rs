//! How a cassette case grades against a target (`conform --target`): a
//! server that claims the protocol but runs none of our mock's scripts.
//!
//! This is data on each case ([`OnTarget`], built when the catalogue builds
//! the case), never a list of case ids in the target code: a case whose
//! scenario needs behaviour only our mock scripts (an injected set-up fault,
//! a connection limit, the retired beta served as it was) is not run there,
//! and a check that reads content our mock scripts (the words its recogniser
//! hears, the tool its responder calls, its echoed answers) is informational
//! there, while still graded against our mock.

use crate::catalogue::Expectation;
use crate::scenario::Scenario;

/// How a case grades against a target (`conform --target`): a server that
/// claims the protocol but runs none of our mock's scripts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OnTarget {
    /// Why the case cannot run against a target (its scenario needs
    /// behaviour only our mock scripts); `None`: it runs.
    pub not_run: Option<String>,
    /// The checks (by name, as in [`Case::expectations`](crate::catalogue::Case::expectations)) that read content
    /// our mock scripts, each with what they read: informational against a
    /// target, graded against our mock.
    pub scripted_checks: Vec<(&'static str, &'static str)>,
}

/// Checks that read content our mock scripts rather than the protocol, with
/// what they read. Against a target a difference in them is informational.
const SCRIPTED_CHECKS: &[(&str, &str)] = &[
    (
        "user transcribed",
        "the exact words our mock's recogniser hears in the bundled speech",
    ),
    (
        "tool round trip",
        "our responder's choice of tool and arguments for the question",
    ),
    (
        "tool round trip in one turn",
        "our responder's choice of tool and arguments, and its scripted answer",
    ),
    (
        "image acknowledged",
        "our responder's scripted words about the image",
    ),
    (
        "pending call cancelled",
        "our responder calling a tool and holding it open while the user speaks",
    ),
    (
        "every user turn answered exactly once, in order",
        "our responder's echoed answers",
    ),
    (
        "commentary spoken",
        "our mock speaking appended commentary word for word (a real model says it its own way)",
    ),
    (
        "delegation answered",
        "our responder delegating the order question to the client (a real model may answer it itself)",
    ),
    (
        "kept talking while the call was pending",
        "our responder's answer voicing the tool's result word for word (18, clear)",
    ),
    (
        "delegation result spoken",
        "our mock speaking the appended result word for word",
    ),
];

/// What in `scenario` only our mock provides, if anything: a target cannot
/// be asked for it, so a case on it does not run there.
fn mock_only_behaviour(scenario: &Scenario) -> Option<String> {
    if let Some(fault) = scenario.setup_fault {
        return Some(format!(
            "needs our mock to inject a set-up fault ({fault:?}); a target cannot be asked for one"
        ));
    }
    if let Some(limit) = scenario.connection_limit {
        return Some(format!(
            "needs our mock's {}s connection limit (goAway on cue); a target's limit is its own",
            limit.as_secs()
        ));
    }
    if scenario.legacy_beta {
        return Some(
            "needs the retired Realtime beta served as it was (`serve --legacy-beta`); today's service refuses it"
                .into(),
        );
    }
    None
}

impl OnTarget {
    /// How a case on `scenario` making `expectations` grades against a
    /// target: read off the scenario and the catalogue's list of scripted checks.
    pub fn of(scenario: &Scenario, expectations: &[(&'static str, Expectation)]) -> Self {
        OnTarget {
            not_run: mock_only_behaviour(scenario),
            scripted_checks: SCRIPTED_CHECKS
                .iter()
                .filter(|(name, _)| expectations.iter().any(|(e, _)| e == name))
                .copied()
                .collect(),
        }
    }

    /// What the check `name` reads that only our mock scripts, if it does.
    pub fn scripted(&self, name: &str) -> Option<&'static str> {
        self.scripted_checks
            .iter()
            .find(|(check, _)| *check == name)
            .map(|(_, why)| *why)
    }
}

#[cfg(test)]
mod tests {
    use super::SCRIPTED_CHECKS;
    use crate::catalogue::{cases, Case};

    /// Every scripted check names a check some case makes (a renamed check
    /// would otherwise silently become graded against targets).
    #[test]
    fn every_scripted_check_is_made_by_some_case_and_marked_on_it() {
        let all = cases().expect("every scenario is bundled");
        for (name, _) in SCRIPTED_CHECKS {
            let making: Vec<&Case> = all
                .iter()
                .filter(|c| c.expectations.iter().any(|(e, _)| e == name))
                .collect();
            assert!(!making.is_empty(), "no case makes the check {name:?}");
            for case in making {
                assert!(case.on_target.scripted(name).is_some(), "{}", case.id);
            }
        }
        let text = all.iter().find(|c| c.id == "openai.ga.text.turn").unwrap();
        assert!(text.on_target.scripted_checks.is_empty());
    }

    /// Each GPT-Live case declares how it grades against a target: it runs
    /// there (nothing in it needs our mock's scripts), and the checks that
    /// read our mock's words or choices are informational there.
    #[test]
    fn the_gpt_live_cases_declare_their_target_grading() {
        let all = cases().expect("every scenario is bundled");
        let live: Vec<(&str, Vec<&str>)> = all
            .iter()
            .filter(|c| c.id.starts_with("openai.live."))
            .map(|c| {
                assert_eq!(c.on_target.not_run, None, "{}", c.id);
                let scripted = c.on_target.scripted_checks.iter().map(|(n, _)| *n);
                (c.id.as_str(), scripted.collect())
            })
            .collect();
        assert_eq!(
            live,
            [
                ("openai.live.text.turn", vec!["commentary spoken"]),
                ("openai.live.audio.turn", vec!["user transcribed"]),
                (
                    "openai.live.tool.delegation",
                    vec!["delegation answered", "delegation result spoken"]
                ),
                ("openai.live.barge-in", vec![]),
                ("openai.live.session.close-usage", vec![]),
                ("openai.live.error.refused-commands", vec![]),
            ]
        );
    }

    /// A case whose scenario needs a fault, a limit or the legacy beta is
    /// not run against a target; the others are.
    #[test]
    fn cases_needing_our_mocks_scripts_are_not_run_against_a_target() {
        let all = cases().expect("every scenario is bundled");
        let not_run: Vec<&str> = all
            .iter()
            .filter(|c| c.on_target.not_run.is_some())
            .map(|c| c.id.as_str())
            .collect();
        assert_eq!(
            not_run,
            [
                "openai.beta.text.turn",
                "openai.beta.audio.vad-turn",
                "openai.beta.tool.round-trip",
                "openai.beta.image-input",
                "dashscope.error.setup",
                "gemini.go-away.resumed",
            ]
        );
    }
}
