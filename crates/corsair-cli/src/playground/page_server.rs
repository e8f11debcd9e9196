//! The page server: the playground page and the JSON API it calls.
//!
//! | route | what |
//! |---|---|
//! | `GET /` and the page's files | the page (sets the demo session cookie) |
//! | `GET /api/info` | ports, version, the default policy |
//! | `GET /api/policy` | the demo API's current `[cors]` TOML and its warnings |
//! | `POST /api/policy/validate` `{toml}` | every problem, nothing changed |
//! | `PUT /api/policy` `{toml}` | validates and, when valid, applies (422 otherwise) |
//! | `POST /api/predict` | the browser model's prediction for a `fetch()` |
//! | `POST /api/explain` `{text, origin?}` | a pasted console error: `corsair explain --json`'s answer (422 when not recognised) |
//! | `GET /api/received?run=ID` | the requests of one run the demo API received |
//! | `GET /api/events` | Server-Sent Events: each request the demo API receives |

use std::convert::Infallible;
use std::sync::Arc;

use http::{header, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use serde::Deserialize;
use serde_json::json;

use super::assets;
use super::demo_api::SESSION_COOKIE;
use super::predict::{predict, PredictError, PredictInput};
use super::reply::{self, error, json, read_json, Body};
use super::sse::EventStream;
use super::state::{sse_event, validate, Shared, DEFAULT_POLICY};

/// The page's Content-Security-Policy: its own files only; `fetch()` may
/// go anywhere (that is the point), nothing else leaves the machine.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src *; base-uri 'none'; form-action 'none'; frame-src 'self'; frame-ancestors 'self'";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyInput {
    toml: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExplainInput {
    text: String,
    #[serde(default)]
    origin: Option<String>,
}

/// Serves one request on the page's port.
pub async fn serve(
    shared: Arc<Shared>,
    request: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    if !reply::is_loopback_host(&request) {
        return Ok(error(
            StatusCode::MISDIRECTED_REQUEST,
            "the playground answers only on loopback names: open http://127.0.0.1:PORT/ or http://localhost:PORT/",
        ));
    }
    let path = request.uri().path().to_string();
    let method = request.method().clone();
    let response = match (&method, path.as_str()) {
        (&Method::GET, "/api/info") => json(
            StatusCode::OK,
            &json!({
                "version": env!("CARGO_PKG_VERSION"),
                "page_port": shared.page_port,
                "api_port": shared.api_port,
                "default_policy": DEFAULT_POLICY,
            }),
        ),
        (&Method::GET, "/api/policy") => {
            let active = shared.policy();
            let v = validate(&active.toml);
            json(StatusCode::OK, &json!({"toml": active.toml, "ok": v.ok, "problems": v.problems}))
        }
        (&Method::POST, "/api/policy/validate") => match read_json::<PolicyInput>(request).await {
            Ok(input) => json(StatusCode::OK, &validate(&input.toml)),
            Err(r) => r,
        },
        (&Method::PUT, "/api/policy") => match read_json::<PolicyInput>(request).await {
            Ok(input) => {
                let v = validate(&input.toml);
                match v.policy.clone() {
                    Some(policy) => {
                        shared.set_policy(input.toml, policy);
                        json(StatusCode::OK, &v)
                    }
                    None => json(StatusCode::UNPROCESSABLE_ENTITY, &v),
                }
            }
            Err(r) => r,
        },
        (&Method::POST, "/api/predict") => match read_json::<PredictInput>(request).await {
            Ok(input) => match predict(&shared, input).await {
                Ok(v) => json(StatusCode::OK, &v),
                Err(PredictError::BadInput(m)) => error(StatusCode::BAD_REQUEST, m),
                Err(PredictError::Thrown(m)) => {
                    json(StatusCode::BAD_REQUEST, &json!({"error": m, "thrown": true}))
                }
                Err(PredictError::Network { message, exchanges }) => json(
                    StatusCode::BAD_GATEWAY,
                    &json!({"error": message, "network_error": true, "exchanges": exchanges}),
                ),
            },
            Err(r) => r,
        },
        (&Method::POST, "/api/explain") => match read_json::<ExplainInput>(request).await {
            Ok(input) => {
                let origin = input.origin.as_deref().filter(|o| !o.trim().is_empty());
                match crate::explain::resolve(&input.text, origin) {
                    Ok((explained, known)) => json(StatusCode::OK, &crate::explain::json(&explained, known)),
                    Err(u) => json(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        &json!({"error": u.hint, "unrecognized": true}),
                    ),
                }
            }
            Err(r) => r,
        },
        (&Method::GET, "/api/received") => {
            let run = request
                .uri()
                .query()
                .and_then(|q| {
                    url::form_urlencoded::parse(q.as_bytes())
                        .find(|(n, _)| n == "run")
                        .map(|(_, v)| v.into_owned())
                });
            match run {
                Some(run) => json(StatusCode::OK, &shared.received(&run)),
                None => error(StatusCode::BAD_REQUEST, "give the run as /api/received?run=ID"),
            }
        }
        (&Method::GET, "/api/events") => {
            let hello = sse_event("hello", &json!({"api_port": shared.api_port}));
            let mut r = Response::new(EventStream::new(hello, shared.subscribe()).boxed());
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
            r.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        (_, p) if p.starts_with("/api/") => error(
            StatusCode::NOT_FOUND,
            format!("no API route {method} {p}: see GET /api/info, /api/policy, /api/events, POST /api/predict, /api/explain"),
        ),
        (&Method::GET | &Method::HEAD, p) => match assets::find(p) {
            Some(asset) => {
                let mut r = reply::bytes(StatusCode::OK, asset.content_type, asset.body);
                let h = r.headers_mut();
                h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
                h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
                if asset.content_type.starts_with("text/html") {
                    // The demo API's /me wants this cookie: cookies ignore
                    // ports, so the API's origin receives it too.
                    if let Ok(v) = HeaderValue::from_str(&format!("{SESSION_COOKIE}=demo; Path=/; SameSite=Lax")) {
                        h.insert(header::SET_COOKIE, v);
                    }
                }
                r
            }
            None => error(StatusCode::NOT_FOUND, format!("no page at {p}: open /")),
        },
        _ => error(StatusCode::METHOD_NOT_ALLOWED, format!("{method} {path} is not supported")),
    };
    Ok(response)
}
