//! The demo API: a few JSON endpoints guarded by the playground's corsair
//! policy, on its own origin.
//!
//! [`respond`] is a pure function of the policy and the request, so the
//! prediction ([`super::predict`]) asks it the same questions the browser
//! asks the real server, without going through the network (and without
//! showing up in the received-requests log).
//!
//! | endpoint | methods | notes |
//! |---|---|---|
//! | `/items` | GET, HEAD, POST | `x-total-count`, `x-request-id` |
//! | `/items/1` … `/items/3` | GET, HEAD, PUT, PATCH, DELETE | DELETE needs `Authorization: Bearer demo-token` |
//! | `/me` | GET, HEAD | 200 with the `corsair_session` cookie, else 401 |
//! | `/redirect?to=URL&status=302` | any | redirects; a path keeps the `_run` parameter |

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use corsair::{Decision, Policy};
use http::{header, HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use serde_json::json;

use super::state::{DecisionView, Received, Shared};

/// The cookie the page server sets and `/me` asks for.
pub const SESSION_COOKIE: &str = "corsair_session";
/// The token `DELETE /items/N` asks for.
pub const DEMO_TOKEN: &str = "Bearer demo-token";
/// The query parameter that ties a request to one run of the page.
pub const RUN_PARAM: &str = "_run";

/// The demo API's answer to one request.
#[derive(Debug)]
pub struct DemoResponse {
    /// The status.
    pub status: StatusCode,
    /// Every response header, CORS headers included.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
    /// What the policy decided.
    pub decision: Decision,
}

/// Answers one request: the policy answers preflights itself; other
/// requests go to the endpoint, and the policy's headers are added to its
/// response.
pub fn respond(
    policy: &Policy,
    method: &Method,
    path_and_query: &str,
    headers: &HeaderMap,
) -> DemoResponse {
    let decision = policy.evaluate(method, headers);
    if let Some(preflight) = policy.preflight_response::<()>(&decision) {
        let (parts, ()) = preflight.into_parts();
        return DemoResponse {
            status: parts.status,
            headers: parts.headers,
            body: Bytes::new(),
            decision,
        };
    }
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let params = Params(
        url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect(),
    );
    let mut out = HeaderMap::new();
    let (status, body) = route(method, path, headers, &params, &mut out);
    let body = Bytes::from(body.to_string());
    out.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    out.insert(
        "x-request-id",
        HeaderValue::from_str(params.get(RUN_PARAM).unwrap_or("none"))
            .unwrap_or(HeaderValue::from_static("none")),
    );
    out.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    decision.headers.apply_to(&mut out);
    DemoResponse {
        status,
        headers: out,
        body,
        decision,
    }
}

/// The decoded query parameters.
struct Params(Vec<(String, String)>);

impl Params {
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

fn item(id: u32) -> serde_json::Value {
    let names = ["", "compass", "spyglass", "sextant"];
    json!({"id": id, "name": names.get(id as usize).copied().unwrap_or("?")})
}

fn route(
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    params: &Params,
    out: &mut HeaderMap,
) -> (StatusCode, serde_json::Value) {
    let read = matches!(*method, Method::GET | Method::HEAD);
    let not_allowed = |allow: &'static str, out: &mut HeaderMap| {
        out.insert(header::ALLOW, HeaderValue::from_static(allow));
        (
            StatusCode::METHOD_NOT_ALLOWED,
            json!({"error": format!("{method} is not supported here; use {allow}")}),
        )
    };
    match path {
        "/" if read => (
            StatusCode::OK,
            json!({"endpoints": ["/items", "/items/1", "/me", "/redirect?to=/items"]}),
        ),
        "/items" => {
            if read {
                out.insert("x-total-count", HeaderValue::from_static("3"));
                (StatusCode::OK, json!([item(1), item(2), item(3)]))
            } else if method == Method::POST {
                (StatusCode::CREATED, json!({"id": 4, "name": "new item"}))
            } else {
                not_allowed("GET, HEAD, POST", out)
            }
        }
        "/me" => {
            if !read {
                return not_allowed("GET, HEAD", out);
            }
            let has_session = headers.get_all(header::COOKIE).iter().any(|v| {
                String::from_utf8_lossy(v.as_bytes())
                    .split(';')
                    .any(|c| c.trim().starts_with(&format!("{SESSION_COOKIE}=")))
            });
            if has_session {
                (StatusCode::OK, json!({"user": "demo", "session": true}))
            } else {
                (
                    StatusCode::UNAUTHORIZED,
                    json!({"error": "no session cookie: fetch with credentials: 'include'"}),
                )
            }
        }
        "/redirect" => {
            let Some(to) = params.get("to") else {
                return (
                    StatusCode::BAD_REQUEST,
                    json!({"error": "give the target as ?to=/items or ?to=http://host/path"}),
                );
            };
            let status = match params.get("status").and_then(|s| s.parse::<u16>().ok()) {
                None => StatusCode::FOUND,
                Some(s @ (301 | 302 | 303 | 307 | 308)) => {
                    StatusCode::from_u16(s).unwrap_or(StatusCode::FOUND)
                }
                Some(_) => {
                    return (
                        StatusCode::BAD_REQUEST,
                        json!({"error": "status must be 301, 302, 303, 307 or 308"}),
                    )
                }
            };
            let mut location = to.to_string();
            if let (true, Some(run)) = (to.starts_with('/'), params.get(RUN_PARAM)) {
                let sep = if to.contains('?') { '&' } else { '?' };
                let run: String = url::form_urlencoded::byte_serialize(run.as_bytes()).collect();
                location = format!("{to}{sep}{RUN_PARAM}={run}");
            }
            match HeaderValue::from_str(&location) {
                Ok(v) => {
                    out.insert(header::LOCATION, v);
                    (status, json!({"redirect": location}))
                }
                Err(_) => (
                    StatusCode::BAD_REQUEST,
                    json!({"error": "the target cannot be sent in a Location header"}),
                ),
            }
        }
        _ => {
            if let Some(id) = path
                .strip_prefix("/items/")
                .and_then(|s| s.parse::<u32>().ok())
                .filter(|id| (1..=3).contains(id))
            {
                return match *method {
                    Method::GET | Method::HEAD => (StatusCode::OK, item(id)),
                    Method::PUT | Method::POST => (StatusCode::OK, item(id)),
                    Method::DELETE => {
                        let ok = headers
                            .get(header::AUTHORIZATION)
                            .is_some_and(|v| v.as_bytes() == DEMO_TOKEN.as_bytes());
                        if ok {
                            (StatusCode::OK, json!({"deleted": id}))
                        } else {
                            (
                                StatusCode::UNAUTHORIZED,
                                json!({"error": format!("send Authorization: {DEMO_TOKEN}")}),
                            )
                        }
                    }
                    _ if method.as_str() == "PATCH" => (StatusCode::OK, item(id)),
                    _ => not_allowed("GET, HEAD, PUT, PATCH, DELETE", out),
                };
            }
            if *method == Method::OPTIONS {
                out.insert(header::ALLOW, HeaderValue::from_static("GET, HEAD, POST"));
                return (StatusCode::NO_CONTENT, json!(null));
            }
            (
                StatusCode::NOT_FOUND,
                json!({"error": "no such endpoint: try /items, /items/1, /me or /redirect?to=/items"}),
            )
        }
    }
}

/// The largest request body the demo API reads (the rest is ignored).
const BODY_LIMIT: usize = 1 << 20;

/// Serves one request on the demo API's port and logs it.
pub async fn serve(
    shared: Arc<Shared>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = request.into_parts();
    // Read (and drop) the body so the connection stays usable.
    let _ = Limited::new(body, BODY_LIMIT).collect().await;
    let path = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_string();
    let active = shared.policy();
    let answer = respond(&active.policy, &parts.method, &path, &parts.headers);
    let run = path.split_once('?').and_then(|(_, q)| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(n, _)| n == RUN_PARAM)
            .map(|(_, v)| v.into_owned())
    });
    shared.record(Received {
        seq: 0,
        run,
        method: parts.method.to_string(),
        path,
        origin: parts
            .headers
            .get(header::ORIGIN)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()),
        preflight: answer.decision.is_preflight(),
        request_headers: pairs(&parts.headers, true),
        status: answer.status.as_u16(),
        response_headers: pairs(&answer.headers, false),
        decision: DecisionView::from(&answer.decision),
    });
    let mut response = Response::new(Full::new(answer.body));
    *response.status_mut() = answer.status;
    *response.headers_mut() = answer.headers;
    Ok(response)
}

/// Header pairs for display; cookie values are hidden.
fn pairs(headers: &HeaderMap, hide_cookies: bool) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(n, v)| {
            let value = if hide_cookies && n == header::COOKIE {
                String::from_utf8_lossy(v.as_bytes())
                    .split(';')
                    .map(|c| c.split('=').next().unwrap_or("").trim().to_string() + "=…")
                    .collect::<Vec<_>>()
                    .join("; ")
            } else {
                String::from_utf8_lossy(v.as_bytes()).into_owned()
            };
            (n.as_str().to_string(), value)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::playground::state::validate;

    fn policy(toml: &str) -> Policy {
        validate(toml).policy.expect("valid policy")
    }

    fn h(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (n, v) in pairs {
            m.append(
                http::HeaderName::from_bytes(n.as_bytes()).expect("name"),
                HeaderValue::from_str(v).expect("value"),
            );
        }
        m
    }

    #[test]
    fn preflights_are_answered_by_the_policy() {
        let p =
            policy("[cors]\nallow_origins = [\"http://a.test\"]\nallow_methods = [\"DELETE\"]\n");
        let ok = respond(
            &p,
            &Method::OPTIONS,
            "/items/1",
            &h(&[
                ("origin", "http://a.test"),
                ("access-control-request-method", "DELETE"),
            ]),
        );
        assert_eq!(ok.status, StatusCode::NO_CONTENT);
        assert_eq!(ok.headers["access-control-allow-origin"], "http://a.test");
        let refused = respond(
            &p,
            &Method::OPTIONS,
            "/items/1",
            &h(&[
                ("origin", "http://b.test"),
                ("access-control-request-method", "DELETE"),
            ]),
        );
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        assert!(refused.headers.get("access-control-allow-origin").is_none());
        assert_eq!(refused.decision.verdict.code(), "origin-not-allowed");
    }

    #[test]
    fn endpoints_answer_and_carry_the_policy_headers() {
        let p = policy("[cors]\nallow_origins = [\"*\"]\n");
        let r = respond(
            &p,
            &Method::GET,
            "/items?_run=r1",
            &h(&[("origin", "http://a.test")]),
        );
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.headers["access-control-allow-origin"], "*");
        assert_eq!(r.headers["x-request-id"], "r1");
        assert_eq!(r.headers["x-total-count"], "3");

        let r = respond(&p, &Method::GET, "/me", &HeaderMap::new());
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        let r = respond(
            &p,
            &Method::GET,
            "/me",
            &h(&[("cookie", "a=b; corsair_session=x")]),
        );
        assert_eq!(r.status, StatusCode::OK);

        let r = respond(&p, &Method::DELETE, "/items/1", &HeaderMap::new());
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        let r = respond(
            &p,
            &Method::DELETE,
            "/items/1",
            &h(&[("authorization", DEMO_TOKEN)]),
        );
        assert_eq!(r.status, StatusCode::OK);

        let r = respond(
            &p,
            &Method::GET,
            "/redirect?to=/items/1&_run=r2",
            &HeaderMap::new(),
        );
        assert_eq!(r.status, StatusCode::FOUND);
        assert_eq!(r.headers["location"], "/items/1?_run=r2");
        let r = respond(
            &p,
            &Method::GET,
            "/redirect?to=http://x.test/&status=307",
            &HeaderMap::new(),
        );
        assert_eq!(r.status, StatusCode::TEMPORARY_REDIRECT);
        assert_eq!(r.headers["location"], "http://x.test/");
        let r = respond(&p, &Method::GET, "/redirect", &HeaderMap::new());
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        let r = respond(&p, &Method::GET, "/nope", &HeaderMap::new());
        assert_eq!(r.status, StatusCode::NOT_FOUND);
    }
}
