//! The preflight cache across requests: short sequences of `fetch()` calls
//! to one URL, each step's preflight answered as the step says, compared
//! step by step (preflight sent, allowed) with one [`corsair::browser::Browser`]
//! of the engine's profile living through the whole sequence.
//!
//! They check the profile's cache claims (Fetch §4.9 "CORS-preflight
//! cache"): merge or replace on a new preflight, `*` entries stored with
//! credentials, entries keyed by credentials, short and malformed
//! `Access-Control-Max-Age` values. The engines' max-age caps (Chromium 2 h,
//! Firefox 24 h, WebKit 10 min) would take that long to observe in a real
//! browser, so no sequence checks them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use corsair::browser::{Browser as Model, BrowserRequest, Profile, Step as ModelStep};
use corsair::Origin;

use crate::driver::{Browser, DriverError, Engine};
use crate::fetch::{run_fetches, FetchCall};
use crate::observation::Tally;
use crate::scenario::Credentials;
use crate::server::{response, Handler, RequestLog, TestServer};

/// What the server answers to a step's preflight. Every actual request is
/// answered `200` with the request's `Origin` in ACAO and `ACAC: true`, so
/// only the preflight and the cache decide.
#[derive(Debug, Clone, Copy)]
pub struct Answer {
    /// `Access-Control-Allow-Methods`, or empty for none.
    pub methods: &'static str,
    /// `Access-Control-Allow-Headers`, or empty for none.
    pub headers: &'static str,
    /// Whether `Access-Control-Allow-Credentials: true` is sent.
    pub credentials: bool,
    /// `Access-Control-Max-Age`, when sent.
    pub max_age: Option<&'static str>,
}

/// One `fetch()` of a sequence.
#[derive(Debug, Clone, Copy)]
pub struct Step {
    /// Milliseconds to wait before the fetch.
    pub wait_ms: u64,
    /// The method.
    pub method: &'static str,
    /// Request header names (each sent with the value `1`).
    pub headers: &'static [&'static str],
    /// `init.credentials`.
    pub credentials: Credentials,
    /// The answer to this step's preflight, if one is sent.
    pub answer: Answer,
}

/// A sequence of fetches to one URL, sharing the browser's cache.
#[derive(Debug, Clone)]
pub struct Sequence {
    /// Unique id, also the URL path's key (`/s/<id>/h0`).
    pub id: &'static str,
    /// What it shows.
    pub note: &'static str,
    /// The fetches, in order.
    pub steps: Vec<Step>,
}

const fn answer(methods: &'static str, headers: &'static str, credentials: bool) -> Answer {
    Answer {
        methods,
        headers,
        credentials,
        max_age: Some("600"),
    }
}

const fn step(method: &'static str, credentials: Credentials, answer: Answer) -> Step {
    Step {
        wait_ms: 0,
        method,
        headers: &[],
        credentials,
        answer,
    }
}

/// The sequences.
pub fn sequences() -> Vec<Sequence> {
    use Credentials::{Include, Omit};
    let put = answer("PUT", "", false);
    let delete = answer("DELETE", "", false);
    let put_incl = answer("PUT", "", true);
    let with_headers = |names, answer_headers| Step {
        headers: names,
        ..step("GET", Omit, answer("", answer_headers, false))
    };
    let max_age = |value| Answer {
        max_age: Some(value),
        ..put
    };
    vec![
        Sequence {
            id: "seq-merge-methods",
            note: "a preflight allowing DELETE after one allowing PUT: merged, PUT stays cached",
            steps: vec![
                step("PUT", Omit, put),
                step("DELETE", Omit, delete),
                step("PUT", Omit, put),
            ],
        },
        Sequence {
            id: "seq-merge-headers",
            note: "a preflight allowing x-b after one allowing x-a: merged, x-a stays cached",
            steps: vec![
                with_headers(&["x-a"], "x-a"),
                with_headers(&["x-b"], "x-b"),
                with_headers(&["x-a"], "x-a"),
            ],
        },
        Sequence {
            id: "seq-star-method-omit",
            note: "a cached `*` method without credentials covers the next method",
            steps: vec![
                step("PUT", Omit, answer("*", "", false)),
                step("DELETE", Omit, answer("*", "", false)),
            ],
        },
        Sequence {
            id: "seq-star-method-incl",
            note: "`*` stored from a credentialed preflight: the spec's method cache entry \
                   match takes it as a wildcard",
            steps: vec![
                step("PUT", Include, answer("*, PUT", "", true)),
                step("DELETE", Include, answer("*, PUT", "", true)),
            ],
        },
        Sequence {
            id: "seq-star-header-omit",
            note: "a cached `*` header without credentials covers the next header",
            steps: vec![with_headers(&["x-a"], "*"), with_headers(&["x-b"], "*")],
        },
        Sequence {
            id: "seq-star-header-incl",
            note: "`*` header entry stored from a credentialed preflight",
            steps: vec![
                Step {
                    headers: &["x-a"],
                    ..step("GET", Include, answer("", "*, x-a", true))
                },
                Step {
                    headers: &["x-b"],
                    ..step("GET", Include, answer("", "*, x-a", true))
                },
            ],
        },
        Sequence {
            id: "seq-incl-then-omit",
            note: "an entry stored with credentials serves a request without them",
            steps: vec![step("PUT", Include, put_incl), step("PUT", Omit, put_incl)],
        },
        Sequence {
            id: "seq-omit-then-incl",
            note: "an entry stored without credentials does not serve a request with them",
            steps: vec![step("PUT", Omit, put_incl), step("PUT", Include, put_incl)],
        },
        Sequence {
            id: "seq-max-age-1",
            note: "`Access-Control-Max-Age: 1`: gone two seconds later",
            steps: vec![
                step("PUT", Omit, max_age("1")),
                Step {
                    wait_ms: 2000,
                    ..step("PUT", Omit, max_age("1"))
                },
            ],
        },
        Sequence {
            id: "seq-max-age-negative",
            note: "`Access-Control-Max-Age: -1` is not delta-seconds (spec: the 5 s default)",
            steps: vec![
                step("PUT", Omit, max_age("-1")),
                step("PUT", Omit, max_age("-1")),
            ],
        },
        Sequence {
            id: "seq-max-age-fraction",
            note: "`Access-Control-Max-Age: 2.5` is not delta-seconds (spec: the 5 s default)",
            steps: vec![
                step("PUT", Omit, max_age("2.5")),
                Step {
                    wait_ms: 3000,
                    ..step("PUT", Omit, max_age("2.5"))
                },
            ],
        },
    ]
}

/// What one step did: whether a preflight was sent, whether the script
/// could read the response.
pub type StepResult = (bool, bool);

/// The browser model's prediction for `sequence`, fetched from a page at
/// `page` to `url`.
pub fn predict(profile: Profile, page: &Origin, url: &str, sequence: &Sequence) -> Vec<StepResult> {
    let mut model = Model::new(profile);
    let mut now = Duration::ZERO;
    let mut results = Vec::new();
    for step in &sequence.steps {
        now += Duration::from_millis(step.wait_ms);
        model.set_time(now);
        let headers: Vec<(&str, &[u8])> = step.headers.iter().map(|n| (*n, &b"1"[..])).collect();
        let Ok(request) = BrowserRequest::new(
            page.clone(),
            url,
            step.method,
            headers,
            step.credentials.into(),
        ) else {
            results.push((false, false));
            continue;
        };
        let mut flow = model.start(request);
        let mut preflighted = false;
        let mut next = flow.next_step();
        let allowed = loop {
            let (sent, is_preflight) = match next {
                ModelStep::SendPreflight(r) => (r, true),
                ModelStep::SendActual(r) => (r, false),
                ModelStep::Done(outcome) => break outcome.allowed,
            };
            preflighted |= is_preflight;
            let origin = sent
                .headers
                .get("origin")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            let (status, pairs) = answer_for(&step.answer, is_preflight, &origin);
            let mut map = http::HeaderMap::new();
            for (name, value) in pairs {
                if let (Ok(n), Ok(v)) = (
                    http::HeaderName::from_bytes(name.as_bytes()),
                    http::HeaderValue::from_str(&value),
                ) {
                    map.append(n, v);
                }
            }
            if status != 204 {
                map.append(http::header::CONTENT_LENGTH, 0.into());
            }
            next = flow.on_response(status, &map);
        };
        results.push((preflighted, allowed));
    }
    results
}

/// The server's answer (status, headers): the single source of truth for
/// the real server and the prediction.
fn answer_for(answer: &Answer, preflight: bool, origin: &str) -> (u16, Vec<(String, String)>) {
    let mut headers = vec![(
        "access-control-allow-origin".to_string(),
        origin.to_string(),
    )];
    if !preflight {
        headers.push(("access-control-allow-credentials".into(), "true".into()));
        return (200, headers);
    }
    if answer.credentials {
        headers.push(("access-control-allow-credentials".into(), "true".into()));
    }
    if !answer.methods.is_empty() {
        headers.push(("access-control-allow-methods".into(), answer.methods.into()));
    }
    if !answer.headers.is_empty() {
        headers.push(("access-control-allow-headers".into(), answer.headers.into()));
    }
    if let Some(age) = answer.max_age {
        headers.push(("access-control-max-age".into(), age.into()));
    }
    (204, headers)
}

/// Each sequence's current answer, by id.
type Answers = Arc<Mutex<HashMap<String, Answer>>>;

fn handler(answers: Answers) -> Handler {
    Arc::new(move |parts: &http::request::Parts| {
        let id = parts.uri.path().split('/').nth(2).unwrap_or_default();
        let current = answers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(id)
            .copied();
        let Some(current) = current else {
            return response(404, &[], "");
        };
        let origin = parts
            .headers
            .get("origin")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let (status, headers) = answer_for(&current, parts.method == http::Method::OPTIONS, origin);
        response(status, &headers, "")
    })
}

/// Runs every sequence from a page at `page_origin` (already open in
/// `page`'s tab) against a server of its own on `runtime`, and compares each
/// step with [`predict`] for `engine`'s profile.
pub fn run(
    browser: &Browser,
    page_origin: &str,
    runtime: &tokio::runtime::Handle,
    engine: Engine,
) -> Result<Tally, DriverError> {
    let answers: Answers = Arc::default();
    let log: RequestLog = Arc::default();
    let server = TestServer::start(
        runtime,
        "cache-api",
        Arc::clone(&log),
        handler(Arc::clone(&answers)),
    )
    .map_err(|e| DriverError::Command(e.to_string()))?;
    let page = browser.new_page()?;
    page.goto(&format!("{page_origin}/"))?;
    let origin = Origin::parse(page_origin).map_err(|e| DriverError::Command(format!("{e:?}")))?;
    let mut tally = Tally::default();
    for sequence in sequences() {
        let url = format!("{}/s/{}/h0", server.origin(), sequence.id);
        let mut observed = Vec::new();
        for step in &sequence.steps {
            std::thread::sleep(Duration::from_millis(step.wait_ms));
            answers
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(sequence.id.to_string(), step.answer);
            let call = FetchCall {
                key: sequence.id.to_string(),
                url: url.clone(),
                method: step.method.to_string(),
                headers: step
                    .headers
                    .iter()
                    .map(|n| (n.to_string(), "1".to_string()))
                    .collect(),
                credentials: step.credentials.as_str().to_string(),
                body: None,
            };
            let results = run_fetches(&page, &[call], 1)?;
            let received = std::mem::take(&mut *log.lock().unwrap_or_else(PoisonError::into_inner));
            let preflighted = received.iter().any(|r| r.method == "OPTIONS");
            observed.push((preflighted, results.first().is_some_and(|r| r.ok)));
        }
        let predicted = predict(engine.profile(), &origin, &url, &sequence);
        let problems = if predicted == observed {
            Vec::new()
        } else {
            vec![format!(
                "  {}\n  (preflight sent, allowed) per step\n  model:   {predicted:?}\n  {}: {observed:?}",
                sequence.note,
                engine.name()
            )]
        };
        tally.record(sequence.id, "preflight cache sequence", problems);
    }
    drop(server);
    Ok(tally)
}
