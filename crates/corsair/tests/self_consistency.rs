//! Self-consistency of corsair's two halves, without a browser: the browser
//! model (`corsair::browser`, Chromium and spec profiles) judging the
//! answers of the policy engine (`corsair::Policy::evaluate`) allows a
//! request exactly when the policy allows it.
//!
//! The server side answers like a deployed policy does: a preflight with
//! `decision.preflight_response()`, an actual request with a 200 carrying
//! `decision.headers.apply_to`. "The policy allows" means: the policy
//! allows the request's origin on the actual request, allows the preflight
//! the model sends (method and headers) when the model sends one, and
//! allows credentials when the request is made with `include` (the policy
//! cannot see the credentials mode; without `allow_credentials` it never
//! sends `Access-Control-Allow-Credentials: true`).

use corsair::browser::{Browser, BrowserRequest, Credentials, HttpRequest, Outcome, Profile, Step};
use corsair::{CorsConfig, Origin, Policy};
use proptest::prelude::*;

/// The API every request goes to; no page below is same-origin with it,
/// so every request is a CORS request.
const API: &str = "https://api.example.com/items";

const PAGES: &[&str] = &[
    "https://app.example",
    "http://app.example",
    "https://app.example:8443",
    "https://a.example.com",
    "https://b.a.example.com",
    "https://evil.example",
];

const POLICY_ORIGINS: &[&str] = &[
    "https://app.example",
    "http://app.example",
    "https://app.example:8443",
    "https://*.example.com",
    "https://evil.example",
];

const METHODS: &[&str] = &[
    "GET", "get", "HEAD", "POST", "post", "PUT", "put", "PATCH", "patch", "DELETE", "delete",
    "QUERY", "OPTIONS",
];

const POLICY_METHODS: &[&str] = &[
    "GET", "POST", "PUT", "PATCH", "patch", "DELETE", "QUERY", "*",
];

/// Request headers a script may set: names in any case, safelisted and
/// unsafe values.
const HEADERS: &[(&str, &str)] = &[
    ("Authorization", "Bearer t"),
    ("authorization", "Basic dTpw"),
    ("Content-Type", "text/plain"),
    ("content-type", "application/json"),
    ("Content-Type", "multipart/form-data; boundary=x"),
    ("Content-Type", "text/plain; charset=utf-8"),
    ("Accept", "application/json"),
    ("Accept-Language", "en"),
    ("Content-Language", "de"),
    ("Range", "bytes=0-10"),
    ("Range", "bytes=0-1, 4-5"),
    ("X-Custom", "1"),
    ("x-request-id", "abc"),
    ("X-Requested-With", "XMLHttpRequest"),
];

const POLICY_HEADERS: &[&str] = &[
    "authorization",
    "content-type",
    "Content-Type",
    "x-custom",
    "X-Request-Id",
    "range",
    "*",
];

fn subset(items: &'static [&'static str]) -> impl Strategy<Value = Vec<String>> {
    proptest::sample::subsequence(items, 0..=items.len().min(4)).prop_map(|v| strings(&v))
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// Valid policies only (the generator avoids what `Policy::new` refuses:
/// `*` mixed with origins, `*` origins or exposed headers with credentials).
fn config() -> impl Strategy<Value = CorsConfig> {
    any::<bool>().prop_flat_map(|credentials| {
        let expose = if credentials {
            prop_oneof![Just(vec![]), Just(strings(&["x-request-id"]))].boxed()
        } else {
            prop_oneof![
                Just(vec![]),
                Just(strings(&["x-request-id"])),
                Just(strings(&["*"]))
            ]
            .boxed()
        };
        let listed = proptest::sample::subsequence(POLICY_ORIGINS, 1..=3).prop_map(|v| strings(&v));
        let origins = if credentials {
            listed.boxed()
        } else {
            prop_oneof![1 => Just(strings(&["*"])), 4 => listed].boxed()
        };
        (
            origins,
            subset(POLICY_METHODS),
            subset(POLICY_HEADERS),
            expose,
            prop_oneof![Just(None), Just(Some(0)), Just(Some(600))],
        )
            .prop_map(
                move |(origins, methods, headers, expose, max_age)| CorsConfig {
                    allow_origins: origins,
                    allow_methods: methods,
                    allow_headers: headers,
                    expose_headers: expose,
                    allow_credentials: credentials,
                    max_age,
                    ..CorsConfig::default()
                },
            )
    })
}

#[derive(Debug, Clone)]
struct Script {
    page: &'static str,
    method: &'static str,
    headers: Vec<(&'static str, &'static str)>,
    credentials: Credentials,
}

fn script() -> impl Strategy<Value = Script> {
    (
        proptest::sample::select(PAGES),
        proptest::sample::select(METHODS),
        proptest::sample::subsequence(HEADERS, 0..=3),
        prop_oneof![
            Just(Credentials::Omit),
            Just(Credentials::SameOrigin),
            Just(Credentials::Include)
        ],
    )
        .prop_map(|(page, method, headers, credentials)| Script {
            page,
            method,
            headers,
            credentials,
        })
}

/// The policy's own verdict on what the model sent, and the model's outcome.
struct Run {
    outcome: Outcome,
    sent: Vec<HttpRequest>,
    /// Every request the model sent was allowed by `Policy::evaluate`.
    policy_allowed_all: bool,
}

/// Runs one `fetch()` in `browser`, served by `policy`.
fn run(browser: &mut Browser, policy: &Policy, request: BrowserRequest) -> Result<Run, String> {
    let mut flow = browser.start(request);
    let mut sent = Vec::new();
    let mut policy_allowed_all = true;
    let mut step = flow.next_step();
    for _ in 0..8 {
        let (request, preflight) = match step {
            Step::SendPreflight(r) => (r, true),
            Step::SendActual(r) => (r, false),
            Step::Done(outcome) => {
                return Ok(Run {
                    outcome: *outcome,
                    sent,
                    policy_allowed_all,
                })
            }
        };
        let decision = policy.evaluate(&request.method, &request.headers);
        policy_allowed_all &= decision.is_allowed();
        let (status, headers) = if preflight {
            let response = decision
                .preflight_response::<()>()
                .ok_or("the policy did not see a preflight in the model's preflight")?;
            (response.status().as_u16(), response.headers().clone())
        } else {
            let mut headers = http::HeaderMap::new();
            headers.insert(
                http::header::CONTENT_TYPE,
                "text/plain".parse().map_err(|_| "value")?,
            );
            headers.insert("x-request-id", "42".parse().map_err(|_| "value")?);
            decision.headers.apply_to(&mut headers);
            (200, headers)
        };
        sent.push(request);
        step = flow.on_response(status, &headers);
    }
    Err("the flow did not finish".into())
}

fn check(config: &CorsConfig, script: &Script, profile: Profile) -> Result<(), TestCaseError> {
    let policy = Policy::new(config)
        .map_err(|e| TestCaseError::fail(format!("generated an invalid policy: {e:?}")))?;
    let Ok(origin) = Origin::parse(script.page) else {
        return Err(TestCaseError::fail(format!("bad page {}", script.page)));
    };
    let headers: Vec<(&str, &[u8])> = script
        .headers
        .iter()
        .map(|(n, v)| (*n, v.as_bytes()))
        .collect();
    let request = BrowserRequest::new(origin, API, script.method, headers, script.credentials)
        .map_err(|e| TestCaseError::fail(format!("request refused: {e}")))?;
    let mut browser = Browser::new(profile);
    let first = run(&mut browser, &policy, request.clone()).map_err(TestCaseError::fail)?;
    let o = &first.outcome;
    let needs_credentials = script.credentials == Credentials::Include;
    let expected = first.policy_allowed_all && (!needs_credentials || policy.allows_credentials());
    prop_assert_eq!(
        o.allowed,
        expected,
        "{}: model {:?}, policy allowed every request: {}, credentials {:?} (policy {}), sent {:#?}",
        profile,
        o.error.as_ref().map(|e| e.message(Profile::Spec)),
        first.policy_allowed_all,
        script.credentials,
        policy.allows_credentials(),
        first.sent
    );
    // A non-safelisted method is always preflighted; `x-request-id` is
    // readable exactly when the policy exposes it (by name, or `*` without
    // credentials).
    let method = request.method();
    if !matches!(method, "GET" | "HEAD" | "POST") {
        prop_assert!(o.preflight_sent, "{} {} not preflighted", profile, method);
    }
    if o.allowed {
        let exposes = config.expose_headers.iter().any(|h| h == "x-request-id")
            || (config.expose_headers.iter().any(|h| h == "*") && !needs_credentials);
        prop_assert_eq!(
            o.exposed_headers.iter().any(|h| h == "x-request-id"),
            exposes,
            "{}: exposed {:?}",
            profile,
            o.exposed_headers
        );
    }
    // The same request again (now possibly answered from the preflight
    // cache) gets the same verdict.
    let again = run(&mut browser, &policy, request).map_err(TestCaseError::fail)?;
    prop_assert_eq!(
        again.outcome.allowed,
        o.allowed,
        "{}: second run differs",
        profile
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]

    #[test]
    fn the_browser_model_allows_exactly_what_the_policy_allows(
        config in config(),
        script in script(),
    ) {
        check(&config, &script, Profile::Chromium)?;
        check(&config, &script, Profile::Spec)?;
    }
}
