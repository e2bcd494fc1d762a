//! The steps of the gold process in their order, with the names the
//! command line, the events and the records use.

use std::fmt;
use std::str::FromStr;

/// One step of `cradle run`, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Step {
    Ingest,
    Enrich,
    Index,
    Validate,
    Build,
    Deploy,
    Verify,
    Connect,
}

impl Step {
    /// Every step, in order.
    pub const ALL: [Step; 8] = [
        Step::Ingest,
        Step::Enrich,
        Step::Index,
        Step::Validate,
        Step::Build,
        Step::Deploy,
        Step::Verify,
        Step::Connect,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Step::Ingest => "ingest",
            Step::Enrich => "enrich",
            Step::Index => "index",
            Step::Validate => "validate",
            Step::Build => "build",
            Step::Deploy => "deploy",
            Step::Verify => "verify",
            Step::Connect => "connect",
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Step {
    type Err = String;

    fn from_str(text: &str) -> Result<Step, String> {
        Step::ALL
            .into_iter()
            .find(|step| step.name() == text.trim())
            .ok_or_else(|| {
                format!(
                    "unknown step {text:?}; the steps are {}",
                    Step::ALL.map(Step::name).join(", ")
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back_and_keep_their_order() {
        for pair in Step::ALL.windows(2) {
            assert!(pair[0] < pair[1]);
        }
        for step in Step::ALL {
            assert_eq!(step.name().parse::<Step>(), Ok(step));
        }
        let error = "deploi".parse::<Step>().unwrap_err();
        assert!(error.contains("ingest, enrich, index"), "{error}");
    }
}
