//! Configuration problems, collected all at once ("fail fast, report
//! everything") rather than one per run.

use std::fmt;

/// How serious a [`Problem`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The policy is refused.
    Error,
    /// The policy is built, but probably does not do what was meant.
    Warning,
}

/// One problem in a policy configuration.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    /// Error or warning.
    pub severity: Severity,
    /// The config key it concerns (`allow_origins`, `max_age`, ...).
    pub field: &'static str,
    /// The offending value, as written, when there is one.
    pub value: Option<String>,
    /// What is wrong and what to write instead.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        match &self.value {
            Some(v) => write!(f, "{sev}: {} `{v}`: {}", self.field, self.message),
            None => write!(f, "{sev}: {}: {}", self.field, self.message),
        }
    }
}

/// Every problem that stopped a policy from being built (at least one
/// error), together with the warnings found on the way.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigErrors {
    /// Errors first, then warnings, each group in config order.
    pub problems: Vec<Problem>,
}

impl ConfigErrors {
    /// Only the errors.
    pub fn errors(&self) -> impl Iterator<Item = &Problem> {
        self.problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.errors().count();
        writeln!(
            f,
            "invalid CORS policy: {n} error{}",
            if n == 1 { "" } else { "s" }
        )?;
        for p in &self.problems {
            writeln!(f, "  {p}")?;
        }
        Ok(())
    }
}

/// Collects problems while a policy is checked.
#[derive(Debug, Default)]
pub(crate) struct Problems(pub(crate) Vec<Problem>);

impl Problems {
    pub(crate) fn error(
        &mut self,
        field: &'static str,
        value: Option<&str>,
        message: impl Into<String>,
    ) {
        self.push(Severity::Error, field, value, message.into());
    }

    pub(crate) fn warn(
        &mut self,
        field: &'static str,
        value: Option<&str>,
        message: impl Into<String>,
    ) {
        self.push(Severity::Warning, field, value, message.into());
    }

    fn push(
        &mut self,
        severity: Severity,
        field: &'static str,
        value: Option<&str>,
        message: String,
    ) {
        self.0.push(Problem {
            severity,
            field,
            value: value.map(str::to_string),
            message,
        });
    }

    pub(crate) fn has_errors(&self) -> bool {
        self.0.iter().any(|p| p.severity == Severity::Error)
    }

    /// Errors first, then warnings; stable within each group.
    pub(crate) fn into_sorted(mut self) -> Vec<Problem> {
        self.0.sort_by_key(|p| p.severity);
        self.0
    }
}
