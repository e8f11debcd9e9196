//! Durations in the config file: `"250ms"`, `"5s"`, `"2m"` or a number of seconds.

use std::time::Duration;

use serde::Deserialize;

/// A duration as written in the config file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum DurationText {
    /// A whole number of seconds.
    Seconds(u64),
    /// A number followed by `ms`, `s` or `m`.
    Text(String),
}

impl DurationText {
    /// The duration, or a message saying how to write it.
    pub fn parse(&self) -> Result<Duration, String> {
        match self {
            DurationText::Seconds(s) => Ok(Duration::from_secs(*s)),
            DurationText::Text(t) => parse(t),
        }
    }
}

fn parse(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let help = || format!("`{text}` is not a duration: write e.g. \"250ms\", \"5s\" or \"2m\"");
    let n: u64 = digits.parse().map_err(|_| help())?;
    match unit.trim() {
        "ms" => Ok(Duration::from_millis(n)),
        "s" | "" => Ok(Duration::from_secs(n)),
        "m" => Ok(Duration::from_secs(n.saturating_mul(60))),
        _ => Err(help()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        assert_eq!(parse("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse("7"), Ok(Duration::from_secs(7)));
        assert!(parse("5h").unwrap_err().contains("\"250ms\""));
        assert!(parse("fast").is_err());
        assert!(parse("").is_err());
    }
}
