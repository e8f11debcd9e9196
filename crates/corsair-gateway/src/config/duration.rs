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

/// A number alone is seconds; anything else goes to `humantime`
/// (`"250ms"`, `"5s"`, `"2m"`, `"1h 30m"`).
fn parse(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    if let Ok(seconds) = t.parse::<u64>() {
        return Ok(Duration::from_secs(seconds));
    }
    humantime::parse_duration(t).map_err(|e| {
        format!("`{text}` is not a duration ({e}): write e.g. \"250ms\", \"5s\" or \"2m\"")
    })
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
        assert_eq!(parse("1h 30m"), Ok(Duration::from_secs(5400)));
        assert!(parse("5 parsecs").unwrap_err().contains("\"250ms\""));
        assert!(parse("fast").is_err());
        assert!(parse("").is_err());
    }
}
