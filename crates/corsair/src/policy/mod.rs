//! The server side of CORS: a validated policy and the decision it gives
//! for each request.
//!
//! A [`Policy`] is built once from a [`CorsConfig`] (TOML or
//! [`PolicyBuilder`]); building checks every rule and reports every problem
//! at once ([`ConfigErrors`]). [`Policy::evaluate`] then classifies a request
//! (Fetch §3.2: non-CORS, actual or preflight) and returns a [`Decision`]:
//! the verdict with its reason and the headers to send.
//!
//! Flow of one request:
//! 1. no `Origin` → [`RequestKind::NonCors`]: allowed; `Vary: Origin` when
//!    the policy's answer depends on the origin;
//! 2. `OPTIONS` + `Origin` + `Access-Control-Request-Method` →
//!    [`RequestKind::Preflight`]: origin, method, every requested header and
//!    the private-network request are checked; allowed → 204 (configurable)
//!    with the `Access-Control-Allow-*` headers, refused → 403 with none;
//! 3. anything else with `Origin` → [`RequestKind::Actual`]: allowed origins
//!    get `Access-Control-Allow-Origin` (plus credentials and exposed
//!    headers), refused ones get no `Access-Control-*` header at all.

mod decision;
mod evaluate;
pub mod header_list;
mod origins;
mod portable;
mod preflight_template;
mod problems;

use http::{HeaderValue, StatusCode};

pub use decision::{
    merge_vary, Allowed, CorsHeaders, Decision, Refusal, RequestKind, Verdict,
    ACCESS_CONTROL_ALLOW_PRIVATE_NETWORK, ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK,
};
pub use origins::OriginMatch;
pub use portable::{
    escape_regex, portable_syntax, Portable, PortableNames, PortableOrigins, PortablePattern,
    PortablePort,
};
pub use problems::{ConfigErrors, Problem, Severity};

use crate::config::CorsConfig;
use crate::names;
use origins::OriginMatcher;
use preflight_template::PreflightTemplate;
use problems::Problems;

/// The longest `max_age` accepted: 24 hours, Firefox's cap and the largest
/// any browser honours.
pub const MAX_AGE_LIMIT: i64 = 86_400;

#[derive(Debug, Clone)]
enum NameRule {
    Any,
    /// Names as configured (methods: exact; headers: lowercase).
    List(Vec<Box<str>>),
}

/// A validated CORS policy. Cheap to share (`Arc<Policy>`); evaluating a
/// request borrows it immutably.
#[derive(Debug, Clone)]
pub struct Policy {
    config: CorsConfig,
    origins: OriginMatcher,
    credentials: bool,
    methods: NameRule,
    headers: NameRule,
    private_network: bool,
    preflight_status: StatusCode,
    acam: Option<HeaderValue>,
    acah: Option<HeaderValue>,
    aceh: Option<HeaderValue>,
    acma: Option<HeaderValue>,
    /// `Vary` for non-preflight responses: `None` when every origin gets the
    /// same answer (`*` without credentials).
    vary_actual: Option<HeaderValue>,
    vary_preflight: HeaderValue,
    /// The usual allowed-preflight answer, ready to clone.
    preflight: PreflightTemplate,
    warnings: Vec<Problem>,
}

impl Policy {
    /// Builds a policy, checking every rule. On failure the error lists
    /// every problem (errors first, then warnings).
    pub fn new(config: &CorsConfig) -> Result<Policy, ConfigErrors> {
        let mut problems = Problems::default();
        let credentials = config.allow_credentials;
        let origins = origins::compile(
            &config.allow_origins,
            &config.allow_origin_regex,
            credentials,
            &mut problems,
        );
        let methods = check_methods(&config.allow_methods, &mut problems);
        let headers = check_allow_headers(&config.allow_headers, &mut problems);
        let expose = check_expose_headers(&config.expose_headers, credentials, &mut problems);
        let acma = check_max_age(config.max_age, &mut problems);
        let preflight_status = match config.preflight_status {
            None => StatusCode::NO_CONTENT,
            Some(s) => match StatusCode::from_u16(s) {
                Ok(code) if code.is_success() => code,
                _ => {
                    problems.error(
                        "preflight_status",
                        Some(&s.to_string()),
                        "browsers accept a preflight only with an ok status (Fetch §4.8 step 7): \
                         use 200 or 204",
                    );
                    StatusCode::NO_CONTENT
                }
            },
        };
        if problems.has_errors() {
            return Err(ConfigErrors {
                problems: problems.into_sorted(),
            });
        }

        let acam = match &methods {
            NameRule::List(list) if !list.is_empty() => join_header_value(list.iter()),
            _ => None,
        };
        let acah = match &headers {
            NameRule::List(list) if !list.is_empty() => join_header_value(list.iter()),
            _ => None,
        };
        let vary_actual =
            (credentials || !origins.allows_any()).then(|| HeaderValue::from_static("origin"));
        let vary_preflight = if config.allow_private_network {
            HeaderValue::from_static(
                "origin, access-control-request-method, access-control-request-headers, \
                 access-control-request-private-network",
            )
        } else {
            HeaderValue::from_static(
                "origin, access-control-request-method, access-control-request-headers",
            )
        };
        // What `evaluate` answers to an allowed preflight when nothing is
        // echoed from the request (see `preflight_template`).
        let preflight = PreflightTemplate::new(CorsHeaders {
            allow_credentials: credentials,
            allow_methods: acam.clone(),
            allow_headers: acah.clone(),
            max_age: acma.clone(),
            vary: Some(vary_preflight.clone()),
            ..CorsHeaders::default()
        });
        Ok(Policy {
            config: config.clone(),
            origins,
            credentials,
            methods,
            headers,
            private_network: config.allow_private_network,
            preflight_status,
            acam,
            acah,
            aceh: expose,
            acma,
            vary_actual,
            vary_preflight,
            preflight,
            warnings: problems.into_sorted(),
        })
    }

    /// A builder for policies written in code.
    pub fn builder() -> PolicyBuilder {
        PolicyBuilder::default()
    }

    /// The warnings found while building: the policy works, but probably
    /// not as intended.
    pub fn warnings(&self) -> &[Problem] {
        &self.warnings
    }

    /// The configuration this policy was built from.
    pub fn config(&self) -> &CorsConfig {
        &self.config
    }

    /// Whether credentialed requests may read responses.
    pub fn allows_credentials(&self) -> bool {
        self.credentials
    }

    /// The complete preflight response to `decision` (a decision of this
    /// policy), or `None` when the request is not a preflight: the same
    /// response as [`Decision::preflight_response`], made faster for the
    /// usual allowed preflight, whose headers this policy keeps ready
    /// (only the origin is written per request).
    pub fn preflight_response<B: Default>(&self, decision: &Decision) -> Option<http::Response<B>> {
        self.preflight.response(decision)
    }
}

/// Builds a [`Policy`] in code; every setter mirrors a key of the `[cors]`
/// table, and [`PolicyBuilder::build`] runs the same validation.
///
/// ```
/// let policy = corsair::Policy::builder()
///     .allow_origins(["https://app.example.com", "https://*.example.org"])
///     .allow_methods(["GET", "POST", "DELETE"])
///     .allow_headers(["authorization", "content-type"])
///     .allow_credentials(true)
///     .max_age(600)
///     .build()
///     .expect("valid policy");
/// assert!(policy.allows_credentials());
/// ```
#[derive(Debug, Clone, Default)]
pub struct PolicyBuilder {
    config: CorsConfig,
}

fn strings<I: IntoIterator<Item = S>, S: Into<String>>(items: I) -> impl Iterator<Item = String> {
    items.into_iter().map(Into::into)
}

impl PolicyBuilder {
    /// Adds to `allow_origins`.
    pub fn allow_origins<I: IntoIterator<Item = S>, S: Into<String>>(mut self, origins: I) -> Self {
        self.config.allow_origins.extend(strings(origins));
        self
    }
    /// Adds to `allow_origin_regex`.
    pub fn allow_origin_regex<I: IntoIterator<Item = S>, S: Into<String>>(
        mut self,
        regexes: I,
    ) -> Self {
        self.config.allow_origin_regex.extend(strings(regexes));
        self
    }
    /// Adds to `allow_methods`.
    pub fn allow_methods<I: IntoIterator<Item = S>, S: Into<String>>(mut self, methods: I) -> Self {
        self.config.allow_methods.extend(strings(methods));
        self
    }
    /// Adds to `allow_headers`.
    pub fn allow_headers<I: IntoIterator<Item = S>, S: Into<String>>(mut self, headers: I) -> Self {
        self.config.allow_headers.extend(strings(headers));
        self
    }
    /// Adds to `expose_headers`.
    pub fn expose_headers<I: IntoIterator<Item = S>, S: Into<String>>(
        mut self,
        headers: I,
    ) -> Self {
        self.config.expose_headers.extend(strings(headers));
        self
    }
    /// Sets `allow_credentials`.
    pub fn allow_credentials(mut self, allow: bool) -> Self {
        self.config.allow_credentials = allow;
        self
    }
    /// Sets `max_age` in seconds.
    pub fn max_age(mut self, seconds: i64) -> Self {
        self.config.max_age = Some(seconds);
        self
    }
    /// Sets `allow_private_network`.
    pub fn allow_private_network(mut self, allow: bool) -> Self {
        self.config.allow_private_network = allow;
        self
    }
    /// Sets the status of allowed preflight responses.
    pub fn preflight_status(mut self, status: u16) -> Self {
        self.config.preflight_status = Some(status);
        self
    }
    /// Validates and builds.
    pub fn build(self) -> Result<Policy, ConfigErrors> {
        Policy::new(&self.config)
    }
}

impl From<CorsConfig> for PolicyBuilder {
    fn from(config: CorsConfig) -> Self {
        PolicyBuilder { config }
    }
}

fn join_header_value<'a>(items: impl Iterator<Item = &'a Box<str>>) -> Option<HeaderValue> {
    let joined = items.map(|s| &**s).collect::<Vec<_>>().join(", ");
    HeaderValue::from_str(&joined).ok()
}

fn is_star(list: &[String]) -> bool {
    list.iter().any(|s| s == "*")
}

fn check_methods(list: &[String], problems: &mut Problems) -> NameRule {
    const FIELD: &str = "allow_methods";
    if is_star(list) {
        if list.len() > 1 {
            problems.warn(
                FIELD,
                Some("*"),
                "`*` already allows every method: the other entries have no effect",
            );
        }
        return NameRule::Any;
    }
    let mut out: Vec<Box<str>> = Vec::new();
    for m in list {
        if !names::is_token(m) {
            problems.error(
                FIELD,
                Some(m),
                "not a valid method name (RFC 9110 §9.1: a token, no spaces or commas)",
            );
        } else if names::is_forbidden_method(m) {
            problems.error(
                FIELD,
                Some(m),
                "browsers never send CONNECT, TRACE or TRACK from scripts (Fetch §2.2.1 forbidden method): remove it",
            );
        } else if names::normalize_method(m) != m.as_str() {
            problems.error(
                FIELD,
                Some(m),
                format!(
                    "browsers send this method as `{}` (Fetch §2.2.1 normalize), and methods are \
                     compared case-sensitively: write `{}`",
                    names::normalize_method(m),
                    names::normalize_method(m)
                ),
            );
        } else if out.iter().any(|o| **o == **m) {
            problems.warn(FIELD, Some(m), "listed more than once");
        } else {
            out.push(m.as_str().into());
        }
    }
    NameRule::List(out)
}

fn check_allow_headers(list: &[String], problems: &mut Problems) -> NameRule {
    const FIELD: &str = "allow_headers";
    if is_star(list) {
        if list.len() > 1 {
            problems.warn(
                FIELD,
                Some("*"),
                "`*` already allows every header: the other entries have no effect",
            );
        }
        return NameRule::Any;
    }
    let mut out: Vec<Box<str>> = Vec::new();
    for h in list {
        if !names::is_token(h) {
            problems.error(
                FIELD,
                Some(h),
                "not a valid header name (RFC 9110 §5.1: a token, no spaces, colons or commas)",
            );
        } else if names::is_forbidden_request_header_name(h) {
            problems.error(
                FIELD,
                Some(h),
                "scripts can never set this header (Fetch §2.2.2 forbidden request-header), so \
                 allowing it has no effect: remove it (cookies are sent with allow_credentials = true)",
            );
        } else {
            let lower = h.to_ascii_lowercase();
            if out.iter().any(|o| **o == *lower) {
                problems.warn(
                    FIELD,
                    Some(h),
                    "listed more than once (header names are case-insensitive)",
                );
            } else {
                out.push(lower.into());
            }
        }
    }
    NameRule::List(out)
}

fn check_expose_headers(
    list: &[String],
    credentials: bool,
    problems: &mut Problems,
) -> Option<HeaderValue> {
    const FIELD: &str = "expose_headers";
    if list.is_empty() {
        return None;
    }
    let star = is_star(list);
    if star && credentials {
        problems.error(
            FIELD,
            Some("*"),
            "with allow_credentials = true browsers read `*` as a header literally named `*` \
             (Fetch §3.2.3): list the headers to expose",
        );
    }
    let mut out: Vec<Box<str>> = Vec::new();
    for h in list.iter().filter(|h| *h != "*") {
        if !names::is_token(h) {
            problems.error(FIELD, Some(h), "not a valid header name (RFC 9110 §5.1)");
        } else if names::is_forbidden_response_header_name(h) {
            problems.warn(
                FIELD,
                Some(h),
                "browsers never let scripts read Set-Cookie (Fetch §2.2.2): remove it",
            );
        } else if names::is_cors_safelisted_response_header_name(h) {
            problems.warn(
                FIELD,
                Some(h),
                "scripts can always read this header (Fetch §2.2.2 CORS-safelisted response-header name): no need to expose it",
            );
        } else {
            let lower = h.to_ascii_lowercase();
            if !out.iter().any(|o| **o == *lower) {
                out.push(lower.into());
            }
        }
    }
    if star {
        return Some(HeaderValue::from_static("*"));
    }
    join_header_value(out.iter())
}

fn check_max_age(max_age: Option<i64>, problems: &mut Problems) -> Option<HeaderValue> {
    let age = max_age?;
    if !(0..=MAX_AGE_LIMIT).contains(&age) {
        problems.error(
            "max_age",
            Some(&age.to_string()),
            format!(
                "must be between 0 and {MAX_AGE_LIMIT} seconds (browsers cap it anyway: Chromium at \
                 7200, Firefox at 86400, WebKit at 600)"
            ),
        );
        return None;
    }
    if age > 7200 {
        problems.warn(
            "max_age",
            Some(&age.to_string()),
            "Chromium caches preflights for at most 7200 s and WebKit for 600 s; only Firefox honours more",
        );
    }
    Some(HeaderValue::from(age))
}

#[cfg(test)]
mod tests;
