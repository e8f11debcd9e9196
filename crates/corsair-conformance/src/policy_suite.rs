//! Policy conformance: API servers answer through [`corsair::Policy`]
//! (preflights from [`corsair::Decision::preflight_response`], actual
//! responses with [`corsair::CorsHeaders::apply_to`]); pages on several
//! loopback origins fetch from them in each browser; what the page sees must be
//! what [`Policy::evaluate`] decided. Also the preflight cache (`max_age`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use corsair::{CorsConfig, Policy};
use http::{HeaderMap, HeaderValue, Method};
use http_body_util::Full;

use crate::driver::{Browser, DriverError, Engine};
use crate::fetch::{run_fetches, FetchCall, FetchResult};
use crate::lab::{hop_of, BLANK_PAGE, CONCURRENCY};
use crate::observation::Tally;
use crate::scenario::Credentials;
use crate::server::{bind_loopback, response, Handler, Received, RequestLog, TestServer};

/// The response header every API answer carries, exposed by some policies.
pub const REQUEST_ID: &str = "x-request-id";

/// A request shape: the `fetch()` call and the ACRH Fetch says it triggers.
#[derive(Debug, Clone)]
pub struct Shape {
    /// Short name for ids.
    pub slug: &'static str,
    /// The method as the script writes it.
    pub method: &'static str,
    /// Request headers.
    pub headers: Vec<(String, String)>,
    /// The `Access-Control-Request-Headers` a preflight carries (Fetch:
    /// sorted lowercase names of the non-safelisted headers), or `None`.
    pub acrh: Option<&'static str>,
}

fn shape(
    slug: &'static str,
    method: &'static str,
    headers: &[(&str, &str)],
    acrh: Option<&'static str>,
) -> Shape {
    Shape {
        slug,
        method,
        headers: headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
        acrh,
    }
}

/// The request shapes every page tries against every policy.
pub fn shapes() -> Vec<Shape> {
    vec![
        shape("get", "GET", &[], None),
        shape("post-text", "POST", &[("content-type", "text/plain")], None),
        shape(
            "post-json",
            "POST",
            &[("content-type", "application/json")],
            Some("content-type"),
        ),
        shape(
            "put-json",
            "PUT",
            &[("content-type", "application/json")],
            Some("content-type"),
        ),
        shape("delete", "DELETE", &[], None),
        shape("patch", "PATCH", &[], None),
        shape("patch-lower", "patch", &[], None),
        shape(
            "get-auth",
            "GET",
            &[("authorization", "Bearer t")],
            Some("authorization"),
        ),
        shape("get-xcustom", "GET", &[("X-Custom", "1")], Some("x-custom")),
        shape(
            "put-auth-json",
            "put",
            &[
                ("content-type", "application/json"),
                ("authorization", "Bearer t"),
            ],
            Some("authorization,content-type"),
        ),
    ]
}

/// A policy configuration and its name.
pub type NamedPolicy = (&'static str, CorsConfig);

/// The page origins of a run: two ports on `127.0.0.1` and one port
/// reached as `localhost`, `app.localhost` and `a.b.localhost`.
#[derive(Debug, Clone)]
pub struct Pages {
    /// `http://127.0.0.1:<a>`.
    pub a: String,
    /// `http://127.0.0.1:<b>`.
    pub b: String,
    /// The port of the `localhost` page server.
    pub local_port: u16,
}

impl Pages {
    /// Every page origin, with a label.
    pub fn all(&self) -> Vec<(&'static str, String)> {
        let p = self.local_port;
        vec![
            ("a", self.a.clone()),
            ("b", self.b.clone()),
            ("localhost", format!("http://localhost:{p}")),
            ("app-localhost", format!("http://app.localhost:{p}")),
            ("deep-localhost", format!("http://a.b.localhost:{p}")),
        ]
    }
}

/// The policies under test, built for this run's page origins.
pub fn policies(pages: &Pages) -> Vec<NamedPolicy> {
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let p = pages.local_port;
    vec![
        (
            // The README's single-page app with cookies.
            "spa",
            CorsConfig {
                allow_origins: s(&[&pages.a]),
                allow_methods: s(&["GET", "POST", "PUT", "DELETE"]),
                allow_headers: s(&["authorization", "content-type"]),
                expose_headers: s(&[REQUEST_ID]),
                allow_credentials: true,
                max_age: Some(600),
                ..CorsConfig::default()
            },
        ),
        (
            "public",
            CorsConfig {
                allow_origins: s(&["*"]),
                allow_methods: s(&["GET", "POST", "PUT"]),
                allow_headers: s(&["content-type"]),
                expose_headers: s(&["*"]),
                ..CorsConfig::default()
            },
        ),
        (
            "subdomains",
            CorsConfig {
                allow_origins: vec![format!("http://*.localhost:{p}")],
                allow_methods: s(&["PUT", "DELETE", "PATCH"]),
                allow_headers: s(&["content-type", "x-custom"]),
                allow_credentials: true,
                ..CorsConfig::default()
            },
        ),
        (
            "headers-any",
            CorsConfig {
                allow_origins: vec![pages.a.clone(), format!("http://localhost:{p}")],
                allow_methods: s(&["*"]),
                allow_headers: s(&["*"]),
                expose_headers: s(&[REQUEST_ID]),
                allow_credentials: true,
                ..CorsConfig::default()
            },
        ),
        (
            "private-network-off",
            CorsConfig {
                allow_origins: vec![pages.a.clone(), pages.b.clone()],
                allow_methods: s(&["PATCH", "DELETE"]),
                allow_private_network: false,
                ..CorsConfig::default()
            },
        ),
        (
            "regex",
            CorsConfig {
                allow_origin_regex: vec![format!("http://(app|a\\.b)\\.localhost:{p}")],
                allow_methods: s(&["patch"]),
                allow_headers: s(&["*"]),
                expose_headers: s(&["*"]),
                ..CorsConfig::default()
            },
        ),
    ]
}

/// What the policy says the page will see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// Whether fetch resolves.
    pub allowed: bool,
    /// The preflight's (ACRM, ACRH), when one is sent.
    pub preflight: Option<(String, Option<String>)>,
    /// Whether `x-request-id` is readable.
    pub exposed: bool,
}

fn origin_headers(origin: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(origin) {
        h.insert(http::header::ORIGIN, v);
    }
    h
}

fn grants_credentials(d: &corsair::Decision, credentials: Credentials) -> bool {
    credentials != Credentials::Include || d.headers.allow_credentials
}

/// The prediction from the policy: the preflight Fetch sends (if the
/// request is not simple) must be allowed by [`Policy::evaluate`], then the
/// actual request; with `credentials: include` the decision must also grant
/// credentials. Exposure follows the decision's `Access-Control-Expose-Headers`.
pub fn expect(policy: &Policy, origin: &str, shape: &Shape, credentials: Credentials) -> Expected {
    let method = corsair::names::normalize_method(shape.method).into_owned();
    let needs_preflight =
        !corsair::names::is_cors_safelisted_method(&method) || shape.acrh.is_some();
    let mut preflight = None;
    if needs_preflight {
        let mut h = origin_headers(origin);
        if let Ok(v) = HeaderValue::from_str(&method) {
            h.insert(http::header::ACCESS_CONTROL_REQUEST_METHOD, v);
        }
        if let Some(acrh) = shape.acrh {
            h.insert(
                http::header::ACCESS_CONTROL_REQUEST_HEADERS,
                HeaderValue::from_static(acrh),
            );
        }
        preflight = Some((method.clone(), shape.acrh.map(str::to_string)));
        let d = policy.evaluate(&Method::OPTIONS, &h);
        if !(d.is_allowed() && grants_credentials(&d, credentials)) {
            return Expected {
                allowed: false,
                preflight,
                exposed: false,
            };
        }
    }
    let Ok(m) = Method::from_bytes(method.as_bytes()) else {
        return Expected {
            allowed: false,
            preflight,
            exposed: false,
        };
    };
    let d = policy.evaluate(&m, &origin_headers(origin));
    let allowed = d.is_allowed() && grants_credentials(&d, credentials);
    let exposed = allowed
        && d.headers.expose_headers.as_ref().is_some_and(|v| {
            v.to_str().unwrap_or("").split(',').map(str::trim).any(|n| {
                n.eq_ignore_ascii_case(REQUEST_ID)
                    || (n == "*" && credentials != Credentials::Include)
            })
        });
    Expected {
        allowed,
        preflight,
        exposed,
    }
}

/// The observed counterpart of [`Expected`].
pub fn observed(result: &FetchResult, requests: &[&Received]) -> Expected {
    let preflight = requests
        .iter()
        .find(|r| r.method == "OPTIONS" && r.header("access-control-request-method").is_some())
        .map(|r| {
            (
                r.header("access-control-request-method")
                    .unwrap_or("")
                    .to_string(),
                r.header("access-control-request-headers")
                    .map(str::to_string),
            )
        });
    Expected {
        allowed: result.ok,
        preflight,
        exposed: result.headers.iter().any(|h| h == REQUEST_ID),
    }
}

/// An API server answering through a policy.
fn policy_handler(policy: Arc<Policy>) -> Handler {
    Arc::new(move |parts: &http::request::Parts| {
        let decision = policy.evaluate(&parts.method, &parts.headers);
        if let Some(mut r) = decision.preflight_response::<Full<Bytes>>() {
            r.headers_mut().insert(
                http::header::CACHE_CONTROL,
                HeaderValue::from_static("no-store"),
            );
            return r;
        }
        let mut r = response(
            200,
            &[
                (REQUEST_ID.to_string(), "7".to_string()),
                ("cache-control".to_string(), "no-store".to_string()),
            ],
            "ok",
        );
        decision.headers.apply_to(r.headers_mut());
        r
    })
}

fn page_handler() -> Handler {
    Arc::new(|parts: &http::request::Parts| {
        if parts.uri.path() == "/" {
            response(
                200,
                &[("content-type".into(), "text/html".into())],
                BLANK_PAGE,
            )
        } else {
            response(404, &[], "")
        }
    })
}

/// Servers for the policy suite: pages and one API per policy.
pub struct PolicyLab {
    runtime: tokio::runtime::Runtime,
    _servers: Vec<TestServer>,
    log: RequestLog,
    /// The page origins.
    pub pages: Pages,
    /// Policy name → (policy, API origin).
    pub apis: Vec<(&'static str, Arc<Policy>, String)>,
}

impl PolicyLab {
    /// Starts the page servers and one API server per policy that
    /// `configs` builds for the page origins ([`policies`] or
    /// [`cache_policies`]).
    pub fn start(configs: fn(&Pages) -> Vec<NamedPolicy>) -> Result<PolicyLab, String> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        let log: RequestLog = Arc::default();
        let mut servers = Vec::new();
        let page = |label: &str| -> Result<TestServer, String> {
            TestServer::start_on(
                bind_loopback().map_err(|e| e.to_string())?,
                runtime.handle(),
                label,
                Arc::clone(&log),
                page_handler(),
            )
            .map_err(|e| e.to_string())
        };
        let (a, b, local) = (page("page-a")?, page("page-b")?, page("page-local")?);
        let pages = Pages {
            a: a.origin(),
            b: b.origin(),
            local_port: local.addr().port(),
        };
        servers.extend([a, b, local]);
        let configs = configs(&pages);
        let mut apis = Vec::new();
        for (name, config) in configs {
            let policy =
                Arc::new(Policy::new(&config).map_err(|e| format!("policy {name}: {e:?}"))?);
            let server = TestServer::start(
                runtime.handle(),
                name,
                Arc::clone(&log),
                policy_handler(Arc::clone(&policy)),
            )
            .map_err(|e| e.to_string())?;
            apis.push((name, policy, server.origin()));
            servers.push(server);
        }
        Ok(PolicyLab {
            runtime,
            _servers: servers,
            log,
            pages,
            apis,
        })
    }

    /// The runtime the servers run on.
    pub fn runtime(&self) -> &tokio::runtime::Handle {
        self.runtime.handle()
    }

    fn take_log(&self) -> Vec<Received> {
        std::mem::take(
            &mut *self
                .log
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }
}

const CREDENTIALS: [Credentials; 2] = [Credentials::Omit, Credentials::Include];

/// Runs every (page origin × policy × shape × credentials) in `engine`,
/// one page per origin, and compares with [`expect`].
pub fn run(browser: &Browser, lab: &PolicyLab, engine: Engine) -> Result<Tally, DriverError> {
    let mut tally = Tally::default();
    let shapes = shapes();
    let (mut allowed, mut blocked, mut preflighted) = (0, 0, 0);
    for (page_label, page_origin) in lab.pages.all() {
        let mut calls = Vec::new();
        let mut cases = Vec::new();
        for (name, policy, api) in &lab.apis {
            for shape in &shapes {
                for credentials in CREDENTIALS {
                    let key = format!(
                        "{name}-{page_label}-{}-{}",
                        shape.slug,
                        credentials.as_str()
                    );
                    calls.push(FetchCall {
                        key: key.clone(),
                        url: format!("{api}/s/{key}/h0"),
                        method: shape.method.to_string(),
                        headers: shape.headers.clone(),
                        credentials: credentials.as_str().to_string(),
                        body: None,
                    });
                    cases.push((key, expect(policy, &page_origin, shape, credentials)));
                }
            }
        }
        let page = browser.new_page()?;
        page.goto(&format!("{page_origin}/"))?;
        let results = run_fetches(&page, &calls, CONCURRENCY)?;
        let log = lab.take_log();
        let mut by_key: HashMap<&str, Vec<&Received>> = HashMap::new();
        for r in &log {
            if let Some(k) = crate::fetch::key_in(&r.path) {
                by_key.entry(k).or_default().push(r);
            }
        }
        for ((key, expected), result) in cases.iter().zip(&results) {
            let requests = by_key.get(key.as_str()).cloned().unwrap_or_default();
            let seen = observed(result, &requests);
            if seen.allowed {
                allowed += 1;
            } else {
                blocked += 1;
            }
            preflighted += usize::from(seen.preflight.is_some());
            let mut problems = Vec::new();
            if seen != *expected {
                problems.push(format!(
                    "  policy says: {expected:?}\n  {}: {seen:?}\n  requests: {}",
                    engine.name(),
                    requests
                        .iter()
                        .map(|r| format!("{} {} origin={:?}", r.method, r.path, r.header("origin")))
                        .collect::<Vec<_>>()
                        .join(" | ")
                ));
            }
            // Every request the API received carried the page's origin.
            for r in &requests {
                if r.header("origin") != Some(page_origin.as_str()) || hop_of(&r.path) != Some(0) {
                    problems.push(format!(
                        "  unexpected request {} {} origin={:?}",
                        r.method,
                        r.path,
                        r.header("origin")
                    ));
                }
            }
            tally.record(key, &format!("policy, page {page_origin}"), problems);
        }
    }
    eprintln!(
        "policy suite: {allowed} allowed, {blocked} blocked, {preflighted} preflighted in {}",
        engine.name()
    );
    Ok(tally)
}

/// The preflight-cache policies: `max_age` 600, 0 and unset (Fetch's
/// default of 5 seconds), all allowing `PUT` from page `a`.
pub fn cache_policies(pages: &Pages) -> Vec<NamedPolicy> {
    let base = CorsConfig {
        allow_origins: vec![pages.a.clone()],
        allow_methods: vec!["PUT".into()],
        ..CorsConfig::default()
    };
    vec![
        (
            "cache-600",
            CorsConfig {
                max_age: Some(600),
                ..base.clone()
            },
        ),
        (
            "cache-0",
            CorsConfig {
                max_age: Some(0),
                ..base.clone()
            },
        ),
        (
            "cache-unset",
            CorsConfig {
                max_age: None,
                ..base
            },
        ),
    ]
}

/// The preflight cache as seen from one page, per policy: (1) `PUT`,
/// (2) the same `PUT` again, (3) `PUT` with `x-other`, which the policy
/// refuses (its preflight fails, and Fetch then clears the URL's cache
/// entries), (4) the first `PUT` again. Expected preflights come from the
/// policy's `max_age` (positive or unset: cached; 0: never) and Fetch's
/// "clear cache entries" on a failed preflight.
pub fn run_cache(browser: &Browser, lab: &PolicyLab, engine: Engine) -> Result<Tally, DriverError> {
    let mut tally = Tally::default();
    let page = browser.new_page()?;
    page.goto(&format!("{}/", lab.pages.a))?;
    let call = |api: &str, key: &str, headers: Vec<(String, String)>| FetchCall {
        key: key.to_string(),
        url: format!("{api}/s/{key}/h0"),
        method: "PUT".into(),
        headers,
        credentials: "omit".into(),
        body: None,
    };
    for (name, policy, api) in &lab.apis {
        let key = format!("{name}-steps");
        let caches = policy.config().max_age != Some(0);
        let mut problems = Vec::new();
        let mut preflights = Vec::new();
        let mut outcomes = Vec::new();
        let other = vec![("x-other".to_string(), "1".to_string())];
        for headers in [vec![], vec![], other, vec![]] {
            let results = run_fetches(&page, &[call(api, &key, headers)], 1)?;
            outcomes.push(results.first().is_some_and(|r| r.ok));
            let log = lab.take_log();
            preflights.push(log.iter().filter(|r| r.method == "OPTIONS").count());
        }
        let expected = [1, usize::from(!caches), 1, 1];
        if preflights != expected || outcomes != [true, true, false, true] {
            problems.push(format!(
                "  max_age {:?}: expected preflights per step {expected:?}, allowed [true, true, false, true]\n  {}: preflights {preflights:?}, allowed {outcomes:?}",
                policy.config().max_age,
                engine.name()
            ));
        }
        tally.record(&key, "preflight cache", problems);
        // Entries expire: the unset (5 s) entry is gone after 6 s. Checked
        // only for `cache-unset`, to keep the suite fast.
        if *name == "cache-unset" {
            std::thread::sleep(Duration::from_secs(6));
            let results = run_fetches(&page, &[call(api, &key, vec![])], 1)?;
            let log = lab.take_log();
            let n = log.iter().filter(|r| r.method == "OPTIONS").count();
            let ok = results.first().is_some_and(|r| r.ok);
            let problems = if n == 1 && ok {
                vec![]
            } else {
                vec![format!("  after 6 s the default 5 s entry should be gone: preflights {n}, allowed {ok}")]
            };
            tally.record(&format!("{name}-expired"), "preflight cache", problems);
        }
    }
    Ok(tally)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pages() -> Pages {
        Pages {
            a: "http://127.0.0.1:1001".into(),
            b: "http://127.0.0.1:1002".into(),
            local_port: 1003,
        }
    }

    fn policy(name: &str) -> Policy {
        let (_, config) = policies(&pages())
            .into_iter()
            .find(|(n, _)| *n == name)
            .unwrap();
        Policy::new(&config).unwrap()
    }

    fn find(slug: &str) -> Shape {
        shapes().into_iter().find(|s| s.slug == slug).unwrap()
    }

    #[test]
    fn every_policy_is_valid() {
        for (name, config) in policies(&pages())
            .into_iter()
            .chain(cache_policies(&pages()))
        {
            assert!(Policy::new(&config).is_ok(), "{name}");
        }
    }

    #[test]
    fn predictions_follow_the_policy() {
        let spa = policy("spa");
        let a = "http://127.0.0.1:1001";
        let e = expect(&spa, a, &find("put-json"), Credentials::Include);
        assert!(e.allowed && e.exposed);
        assert_eq!(
            e.preflight,
            Some(("PUT".into(), Some("content-type".into())))
        );
        let e = expect(
            &spa,
            "http://127.0.0.1:1002",
            &find("get"),
            Credentials::Omit,
        );
        assert_eq!(
            e,
            Expected {
                allowed: false,
                preflight: None,
                exposed: false
            }
        );
        // `patch` is not `PATCH`: methods are case-sensitive.
        let pn = policy("private-network-off");
        assert!(expect(&pn, a, &find("patch"), Credentials::Omit).allowed);
        assert!(!expect(&pn, a, &find("patch-lower"), Credentials::Omit).allowed);
        // A public policy never grants credentials.
        let public = policy("public");
        assert!(expect(&public, a, &find("get"), Credentials::Omit).allowed);
        assert!(!expect(&public, a, &find("get"), Credentials::Include).allowed);
        // Subdomain patterns match subdomains, not the apex.
        let sub = policy("subdomains");
        assert!(
            expect(
                &sub,
                "http://app.localhost:1003",
                &find("delete"),
                Credentials::Include
            )
            .allowed
        );
        assert!(
            !expect(
                &sub,
                "http://localhost:1003",
                &find("delete"),
                Credentials::Include
            )
            .allowed
        );
    }
}
