//! The prediction: what corsair's browser model says the browser will do
//! for the page's `fetch()`.
//!
//! The flow is driven by [`crate::check::drive`], the same loop as
//! `corsair check`. Requests to the demo API are answered in process by
//! [`demo_api::respond`] with the current policy (so they do not appear
//! in the received-requests log, and each one also carries the policy's
//! decision); requests to any other URL go over the network, exactly as
//! `corsair check` sends them.

use std::sync::Arc;

use corsair::browser::{Browser, BrowserRequest, Credentials, Profile};
use corsair::{Origin, Policy};
use http::{HeaderMap, HeaderValue};
use serde::Deserialize;
use serde_json::{json, Value};

use super::demo_api::{self, SESSION_COOKIE};
use super::state::{DecisionView, Shared};
use crate::check::{drive, DriveError, Transport};
use crate::http_client::{ClientError, HttpClient, Response};

/// What the page asks to predict: its `fetch()` call.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PredictInput {
    /// The page's origin (`location.origin`).
    pub origin: String,
    /// The URL passed to `fetch()`.
    pub url: String,
    /// The method.
    pub method: String,
    /// The headers the script sets, as `[name, value]` pairs.
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// The credentials mode.
    #[serde(default)]
    pub credentials: Credentials,
    /// The browser profile to predict for (`chromium`, `firefox`, `webkit`, `spec`).
    #[serde(default)]
    pub profile: Option<String>,
}

/// Why there is no prediction.
#[derive(Debug)]
pub enum PredictError {
    /// The input is not a request (bad origin, unknown profile).
    BadInput(String),
    /// `fetch()` itself would throw a `TypeError` before sending anything
    /// (bad URL or scheme, forbidden method, bad header).
    Thrown(String),
    /// A request to another server got no response.
    Network {
        /// What failed and what to check.
        message: String,
        /// The exchanges completed before it.
        exchanges: Value,
    },
}

/// Whether `url` points at the demo API: its port on a loopback name.
pub fn is_demo_api(url: &url::Url, api_port: u16) -> bool {
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost" || d.ends_with(".localhost"),
        None => false,
    };
    url.scheme() == "http" && loopback && url.port_or_known_default() == Some(api_port)
}

/// Answers requests to the demo API in process and the rest over the
/// network.
struct PlaygroundTransport<'a> {
    policy: Arc<Policy>,
    api_port: u16,
    /// Credentials mode `include`: the browser sends the page's session
    /// cookie (the page server sets it for the loopback host).
    send_cookie: bool,
    client: &'a HttpClient,
}

impl Transport for PlaygroundTransport<'_> {
    async fn send(
        &self,
        method: &http::Method,
        url: &url::Url,
        headers: &HeaderMap,
    ) -> Result<Response, ClientError> {
        if !is_demo_api(url, self.api_port) {
            return self.client.send(method, url, headers).await;
        }
        let mut headers = headers.clone();
        if self.send_cookie && method != http::Method::OPTIONS {
            if let Ok(v) = HeaderValue::from_str(&format!("{SESSION_COOKIE}=demo")) {
                headers.insert(http::header::COOKIE, v);
            }
        }
        let path = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        };
        let answer = demo_api::respond(&self.policy, method, &path, &headers);
        Ok(Response {
            status: answer.status.as_u16(),
            headers: answer.headers,
            version: http::Version::HTTP_11,
        })
    }
}

/// Predicts the page's `fetch()` and returns the JSON the page renders.
pub async fn predict(shared: &Shared, input: PredictInput) -> Result<Value, PredictError> {
    let origin = Origin::parse(&input.origin).map_err(|e| {
        PredictError::BadInput(format!(
            "`origin` {:?} is not an origin ({e}): send location.origin",
            input.origin
        ))
    })?;
    let profile = match input.profile.as_deref() {
        None | Some("") => Profile::Chromium,
        Some(name) => Profile::from_name(name).ok_or_else(|| {
            PredictError::BadInput(format!(
                "unknown browser profile `{name}`: use chromium, firefox, webkit or spec"
            ))
        })?,
    };
    let pairs: Vec<(&str, &[u8])> = input
        .headers
        .iter()
        .map(|(n, v)| (n.trim(), v.as_bytes()))
        .collect();
    let request = BrowserRequest::new(
        origin,
        input.url.trim(),
        &input.method,
        pairs,
        input.credentials,
    )
    .map_err(|e| PredictError::Thrown(format!("fetch() throws a TypeError: {e}")))?;
    let demo = is_demo_api(request.url(), shared.api_port);
    let active = shared.policy();
    let transport = PlaygroundTransport {
        policy: active.policy.clone(),
        api_port: shared.api_port,
        send_cookie: input.credentials == Credentials::Include,
        client: &shared.client,
    };
    let mut browser = Browser::new(profile);
    let driven = match drive(&transport, &mut browser, request).await {
        Ok(d) => d,
        Err(DriveError {
            request,
            error,
            exchanges,
        }) => {
            return Err(PredictError::Network {
                message: format!(
                    "no response to {request}: {error}. The browser will fail too (TypeError), \
                     but that is a network error, not CORS"
                ),
                exchanges: serde_json::to_value(&exchanges).unwrap_or(Value::Null),
            })
        }
    };
    let outcome = driven.outcome;
    let exchanges: Vec<Value> = outcome
        .exchanges
        .iter()
        .map(|x| {
            let mut v = serde_json::to_value(x).unwrap_or(Value::Null);
            if is_demo_api(&x.request.url, shared.api_port) {
                let decision = active
                    .policy
                    .evaluate(&x.request.method, &x.request.headers);
                v["decision"] = json!(DecisionView::from(&decision));
            }
            v
        })
        .collect();
    let error = outcome.error.as_ref().map(|e| {
        json!({
            "code": e.code(),
            "stage": e.stage,
            "status": e.status,
            "console_message": e.message(profile),
            "explanation": e.explanation(),
            "fix": e.fix(),
        })
    });
    Ok(json!({
        "target": if demo { "demo" } else { "other" },
        "profile": profile,
        "allowed": outcome.allowed,
        "status": outcome.status,
        "final_url": outcome.final_url,
        "preflight_sent": outcome.preflight_sent,
        "exposed_headers": outcome.exposed_headers,
        "redirects": outcome.redirects,
        "dropped_headers": outcome.dropped_headers,
        "error": error,
        "exchanges": exchanges,
    }))
}
