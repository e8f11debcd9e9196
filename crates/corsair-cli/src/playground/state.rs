//! What the playground's two servers share: the demo API's policy (editable
//! from the page), the log of requests the demo API received, and the
//! pages listening for that log.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

use bytes::Bytes;
use corsair::{ConfigFile, Policy, Problem, Severity};
use serde::Serialize;
use tokio::sync::mpsc;

use crate::http_client::HttpClient;

/// How many received requests the log keeps (oldest dropped first).
const LOG_LIMIT: usize = 500;

/// The policy the demo API starts with: a public, read-only API.
pub const DEFAULT_POLICY: &str = r#"[cors]
# A public, read-only API: any page may read it, without cookies.
allow_origins = ["*"]
allow_methods = ["GET", "HEAD"]
expose_headers = ["x-request-id", "x-total-count"]
max_age = 600
"#;

/// The demo API's current policy and the TOML it came from.
#[derive(Debug, Clone)]
pub struct ActivePolicy {
    /// The `[cors]` TOML as the user wrote it.
    pub toml: String,
    /// The policy built from it.
    pub policy: Arc<Policy>,
}

/// The result of checking a `[cors]` TOML text.
#[derive(Debug, Clone, Serialize)]
pub struct Validation {
    /// Whether a policy could be built (warnings allowed).
    pub ok: bool,
    /// Every problem: a TOML syntax error (field `toml`), or the policy's
    /// errors and warnings.
    pub problems: Vec<ProblemView>,
    /// The policy, when `ok`.
    #[serde(skip)]
    pub policy: Option<Policy>,
}

/// One problem as the page shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ProblemView {
    /// `error` or `warning`.
    pub severity: Severity,
    /// The `[cors]` key, or `toml` for a syntax error.
    pub field: String,
    /// The offending value, when there is one.
    pub value: Option<String>,
    /// What is wrong and what to write instead.
    pub message: String,
}

impl From<&Problem> for ProblemView {
    fn from(p: &Problem) -> Self {
        ProblemView {
            severity: p.severity,
            field: p.field.to_string(),
            value: p.value.clone(),
            message: p.message.clone(),
        }
    }
}

/// Parses and checks a `[cors]` TOML text, reporting every problem.
pub fn validate(toml: &str) -> Validation {
    let file = match ConfigFile::from_toml(toml) {
        Ok(f) => f,
        Err(e) => {
            return Validation {
                ok: false,
                problems: vec![ProblemView {
                    severity: Severity::Error,
                    field: "toml".into(),
                    value: None,
                    message: format!("{}: fix the TOML syntax (a `[cors]` table with the keys allow_origins, allow_methods, ...)", e.message),
                }],
                policy: None,
            }
        }
    };
    match Policy::new(&file.cors) {
        Ok(policy) => Validation {
            ok: true,
            problems: policy.warnings().iter().map(ProblemView::from).collect(),
            policy: Some(policy),
        },
        Err(e) => Validation {
            ok: false,
            problems: e.problems.iter().map(ProblemView::from).collect(),
            policy: None,
        },
    }
}

/// How the policy judged one request the demo API received.
#[derive(Debug, Clone, Serialize)]
pub struct DecisionView {
    /// `preflight`, `actual` or `non-cors`.
    pub kind: &'static str,
    /// Whether the policy allows it.
    pub allowed: bool,
    /// The verdict's stable code, e.g. `origin-not-allowed`.
    pub code: &'static str,
    /// The verdict with its reason, in words.
    pub reason: String,
}

impl From<&corsair::Decision> for DecisionView {
    fn from(d: &corsair::Decision) -> Self {
        DecisionView {
            kind: d.kind.as_str(),
            allowed: d.is_allowed(),
            code: d.verdict.code(),
            reason: d.verdict.to_string(),
        }
    }
}

/// One request the demo API received, and what it answered.
#[derive(Debug, Clone, Serialize)]
pub struct Received {
    /// Position in the log, from 1.
    pub seq: u64,
    /// The `_run` query parameter, which ties the request to a page run.
    pub run: Option<String>,
    /// The method.
    pub method: String,
    /// Path and query.
    pub path: String,
    /// The `Origin` header, if any.
    pub origin: Option<String>,
    /// Whether it was a CORS preflight (OPTIONS with
    /// Access-Control-Request-Method).
    pub preflight: bool,
    /// Every request header, in order (cookie values hidden).
    pub request_headers: Vec<(String, String)>,
    /// The response status.
    pub status: u16,
    /// Every response header, in order.
    pub response_headers: Vec<(String, String)>,
    /// The policy's decision.
    pub decision: DecisionView,
}

/// The state shared by the page server and the demo API.
pub struct Shared {
    /// The demo API's port.
    pub api_port: u16,
    /// The page server's port.
    pub page_port: u16,
    /// The client used to predict requests to other servers.
    pub client: HttpClient,
    policy: RwLock<ActivePolicy>,
    log: Mutex<Log>,
}

#[derive(Default)]
struct Log {
    next_seq: u64,
    entries: VecDeque<Received>,
    subscribers: Vec<mpsc::Sender<Bytes>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    /// State with the default policy.
    pub fn new(page_port: u16, api_port: u16, client: HttpClient) -> Result<Shared, String> {
        let policy = validate(DEFAULT_POLICY)
            .policy
            .ok_or("the built-in default policy is invalid (a corsair bug: please report it)")?;
        Ok(Shared {
            api_port,
            page_port,
            client,
            policy: RwLock::new(ActivePolicy {
                toml: DEFAULT_POLICY.to_string(),
                policy: Arc::new(policy),
            }),
            log: Mutex::new(Log {
                next_seq: 1,
                ..Log::default()
            }),
        })
    }

    /// The demo API's current policy.
    pub fn policy(&self) -> ActivePolicy {
        self.policy
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Replaces the demo API's policy.
    pub fn set_policy(&self, toml: String, policy: Policy) {
        *self.policy.write().unwrap_or_else(PoisonError::into_inner) = ActivePolicy {
            toml,
            policy: Arc::new(policy),
        };
    }

    /// Adds a received request to the log (numbering it) and pushes it to
    /// every listening page.
    pub fn record(&self, mut entry: Received) {
        let mut log = lock(&self.log);
        entry.seq = log.next_seq;
        log.next_seq += 1;
        let event = sse_event("received", &entry);
        log.subscribers
            .retain(|tx| match tx.try_send(event.clone()) {
                Ok(()) => true,
                // A page that does not keep up loses events, never the server.
                Err(mpsc::error::TrySendError::Full(_)) => true,
                Err(mpsc::error::TrySendError::Closed(_)) => false,
            });
        if log.entries.len() == LOG_LIMIT {
            log.entries.pop_front();
        }
        log.entries.push_back(entry);
    }

    /// The logged requests of one run, in arrival order.
    pub fn received(&self, run: &str) -> Vec<Received> {
        lock(&self.log)
            .entries
            .iter()
            .filter(|e| e.run.as_deref() == Some(run))
            .cloned()
            .collect()
    }

    /// A new listener for received requests, as ready-made SSE events.
    pub fn subscribe(&self) -> mpsc::Receiver<Bytes> {
        let (tx, rx) = mpsc::channel(256);
        lock(&self.log).subscribers.push(tx);
        rx
    }
}

/// Formats one Server-Sent Event with a JSON payload.
pub fn sse_event<T: Serialize>(name: &str, data: &T) -> Bytes {
    let json = serde_json::to_string(data).unwrap_or_else(|_| "null".into());
    Bytes::from(format!("event: {name}\ndata: {json}\n\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_lists_every_problem_or_the_syntax_error() {
        let v = validate("[cors]\nallow_origins = [\"*\"]\nallow_credentials = true\nallow_methods = [\"TRACE\", \"get\"]\n");
        assert!(!v.ok);
        let fields: Vec<&str> = v.problems.iter().map(|p| p.field.as_str()).collect();
        assert!(fields.contains(&"allow_methods"), "{fields:?}");
        assert!(v.problems.len() >= 3, "{:?}", v.problems);

        let v = validate("[cors\nallow_origins = 1");
        assert!(!v.ok);
        assert_eq!(v.problems.len(), 1);
        assert_eq!(v.problems[0].field, "toml");

        let v = validate(DEFAULT_POLICY);
        assert!(v.ok && v.policy.is_some(), "{:?}", v.problems);
    }
}
