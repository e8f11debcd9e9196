//! The policy configuration: one serde struct that the same TOML file feeds
//! to `corsair eval`, the tower middleware and the gateway.
//!
//! ```toml
//! [cors]
//! allow_origins = ["https://app.example.com", "https://*.example.org"]
//! allow_methods = ["GET", "POST", "PUT", "DELETE"]
//! allow_headers = ["authorization", "content-type"]
//! allow_credentials = true
//! max_age = 600
//! ```
//!
//! Parsing only checks the *shape* of the file; every rule about the values
//! is checked when a [`crate::Policy`] is built from it, which reports all
//! problems at once.

use serde::{Deserialize, Serialize};

/// The `[cors]` table: everything a policy needs.
///
/// Unknown keys are refused so that a typo (`allow_origin`) is an error, not
/// a silently ignored line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorsConfig {
    /// Origins allowed to read responses: exact origins
    /// (`https://app.example.com`), `*` for any origin, subdomain patterns
    /// (`https://*.example.org`, one or more labels) and port wildcards
    /// (`http://localhost:*`, `https://*.example.org:*`).
    #[serde(default)]
    pub allow_origins: Vec<String>,
    /// Regular expressions an origin may match instead; each always matches
    /// the whole origin (it is anchored for you).
    #[serde(default)]
    pub allow_origin_regex: Vec<String>,
    /// Methods a preflight may ask for (`*` for any). The CORS-safelisted
    /// methods `GET`, `HEAD` and `POST` are always allowed (Fetch §4.8 step
    /// "CORS-preflight fetch" never checks them).
    #[serde(default)]
    pub allow_methods: Vec<String>,
    /// Request headers a preflight may ask for, case-insensitive (`*` for
    /// any, including `Authorization`).
    #[serde(default)]
    pub allow_headers: Vec<String>,
    /// Response headers the page's script may read beyond the safelisted
    /// ones (`*` for all, only without credentials).
    #[serde(default)]
    pub expose_headers: Vec<String>,
    /// Whether requests with credentials (cookies, HTTP auth, client
    /// certificates) may read responses.
    #[serde(default)]
    pub allow_credentials: bool,
    /// How long, in seconds, a browser may cache a preflight answer (0 to 86400).
    #[serde(default)]
    pub max_age: Option<i64>,
    /// Whether to answer Private Network Access preflights
    /// (`Access-Control-Request-Private-Network: true`).
    #[serde(default)]
    pub allow_private_network: bool,
    /// The status of an allowed preflight response (200 to 299; default 204).
    #[serde(default)]
    pub preflight_status: Option<u16>,
}

/// A whole config file: the `[cors]` table; other top-level keys belong to
/// other tools (`listen`, `upstream`, `[[routes]]`) and are ignored here.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigFile {
    /// The policy.
    pub cors: CorsConfig,
}

/// A config file that is not valid TOML or has the wrong shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ConfigSyntaxError {
    /// The parser's message, with the line and column of the problem.
    pub message: String,
}

impl ConfigFile {
    /// Parses TOML text with a `[cors]` table.
    pub fn from_toml(text: &str) -> Result<Self, ConfigSyntaxError> {
        toml::from_str(text).map_err(|e| ConfigSyntaxError {
            message: e.to_string().trim_end().to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_example_and_ignores_other_tools_keys() {
        let text = r#"
            listen = "127.0.0.1:8080"
            upstream = "http://127.0.0.1:3000"
            [cors]
            allow_origins = ["https://app.example.com", "https://*.example.org"]
            allow_origin_regex = ["^https://pr-[0-9]+\\.preview\\.example\\.net$"]
            allow_methods = ["GET", "POST"]
            allow_headers = ["authorization"]
            expose_headers = ["x-request-id"]
            allow_credentials = true
            max_age = 600
            allow_private_network = false
        "#;
        let file = ConfigFile::from_toml(text).unwrap();
        assert_eq!(file.cors.allow_origins.len(), 2);
        assert_eq!(file.cors.max_age, Some(600));
        assert!(file.cors.allow_credentials);
    }

    #[test]
    fn typos_and_wrong_types_are_errors_with_a_location() {
        let e = ConfigFile::from_toml("[cors]\nallow_origin = [\"https://a.com\"]\n").unwrap_err();
        assert!(e.message.contains("allow_origin"), "{e}");
        assert!(e.message.contains("line 2"), "{e}");
        let e = ConfigFile::from_toml("[cors]\nmax_age = \"ten\"\n").unwrap_err();
        assert!(e.message.contains("max_age"), "{e}");
        let e = ConfigFile::from_toml("listen = 1\n").unwrap_err();
        assert!(e.message.contains("cors"), "{e}");
    }
}
