//! Runs many `fetch()` calls in one page, a few at a time, and collects
//! what the script saw; matches console errors to calls by URL.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::driver::{ConsoleMessage, DriverError, Page};

/// One `fetch(url, init)` call. Its URL contains `/s/<key>/` so that
/// console messages can be matched to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FetchCall {
    /// The key in the URL path.
    pub key: String,
    /// The URL.
    pub url: String,
    /// `init.method`.
    pub method: String,
    /// `init.headers`, as pairs.
    pub headers: Vec<(String, String)>,
    /// `init.credentials`.
    pub credentials: String,
    /// `init.body`.
    pub body: Option<String>,
}

/// What the script saw.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct FetchResult {
    /// The call's key.
    pub key: String,
    /// Whether the promise resolved.
    pub ok: bool,
    /// `response.status`.
    pub status: Option<u16>,
    /// `response.type`.
    #[serde(rename = "type")]
    pub response_type: Option<String>,
    /// `response.redirected`.
    pub redirected: Option<bool>,
    /// The names seen iterating `response.headers`.
    pub headers: Vec<String>,
    /// The rejection, e.g. `TypeError: Failed to fetch`.
    pub error: Option<String>,
}

const RUNNER: &str = r#"(async (calls, limit) => {
  const out = new Array(calls.length);
  let next = 0;
  async function worker() {
    while (next < calls.length) {
      const i = next++;
      const c = calls[i];
      const init = { method: c.method, headers: c.headers, credentials: c.credentials };
      if (c.body !== null) init.body = c.body;
      try {
        const r = await fetch(c.url, init);
        const names = [];
        for (const [name] of r.headers) names.push(name);
        await r.text();
        out[i] = { key: c.key, ok: true, status: r.status, type: r.type, redirected: r.redirected, headers: names, error: null };
      } catch (e) {
        out[i] = { key: c.key, ok: false, status: null, type: null, redirected: null, headers: [], error: String(e) };
      }
    }
  }
  await Promise.all(Array.from({ length: limit }, worker));
  return out;
})"#;

/// Runs the calls with at most `concurrency` in flight; results are in the
/// calls' order.
pub fn run_fetches(
    page: &Page<'_>,
    calls: &[FetchCall],
    concurrency: usize,
) -> Result<Vec<FetchResult>, DriverError> {
    let js = format!(
        "{RUNNER}({}, {})",
        serde_json::to_string(calls)?,
        concurrency.max(1)
    );
    page.eval_as(&js)
}

/// The key of a URL or message: what follows the first `/s/` up to the next `/`.
pub fn key_in(text: &str) -> Option<&str> {
    let start = text.find("/s/")? + 3;
    let rest = &text[start..];
    let end = rest.find('/')?;
    Some(&rest[..end])
}

/// Groups console errors by the key found in their text (or, failing
/// that, their URL). Messages without a key are returned under `""`.
pub fn console_by_key(messages: &[ConsoleMessage]) -> HashMap<String, Vec<ConsoleMessage>> {
    let mut out: HashMap<String, Vec<ConsoleMessage>> = HashMap::new();
    for m in messages {
        let key = key_in(&m.text).or_else(|| key_in(&m.url)).unwrap_or("");
        out.entry(key.to_string()).or_default().push(m.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_found_in_urls_and_messages() {
        assert_eq!(key_in("http://127.0.0.1:5/s/m-12/h0"), Some("m-12"));
        assert_eq!(
            key_in("Access to fetch at 'http://localhost:9/s/x1/h1' (redirected from 'http://127.0.0.1:5/s/x1/h0') from origin"),
            Some("x1")
        );
        assert_eq!(key_in("about:blank"), None);
        assert_eq!(key_in("http://h/s/unterminated"), None);
    }
}
