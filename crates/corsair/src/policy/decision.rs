//! What the policy answers to one request: the kind of request, the verdict
//! with its machine-readable reason, and the response headers to set.

use std::fmt;

use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::StatusCode;

use super::origins::OriginMatch;

/// How Fetch classifies a request reaching a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RequestKind {
    /// No `Origin` header: not a CORS request (same-origin navigation, curl, ...).
    NonCors,
    /// A CORS request that is not a preflight: the response is the
    /// application's, with CORS headers added (Fetch §3.2.3).
    Actual,
    /// `OPTIONS` with `Origin` and `Access-Control-Request-Method`
    /// (Fetch §3.2.2 "CORS-preflight request"); answered by the policy itself.
    Preflight,
}

impl RequestKind {
    /// `non-cors`, `actual` or `preflight`.
    pub fn as_str(self) -> &'static str {
        match self {
            RequestKind::NonCors => "non-cors",
            RequestKind::Actual => "actual",
            RequestKind::Preflight => "preflight",
        }
    }
}

/// Why a request was allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Allowed {
    /// Not a CORS request: nothing to allow or refuse.
    NotCors,
    /// The origin matched the allowlist (and, for a preflight, the method,
    /// headers and private-network request did too).
    Origin(OriginMatch),
}

/// Why a request was refused. Refusals carry the offending value so logs
/// can say exactly what to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The origin matches no entry of `allow_origins` or `allow_origin_regex`.
    OriginNotAllowed {
        /// The `Origin` header as received.
        origin: HeaderValue,
    },
    /// The request has more than one `Origin` header, which no browser sends.
    MultipleOrigins,
    /// The preflight's `Access-Control-Request-Method` is not a token.
    MalformedMethod,
    /// The requested method is not in `allow_methods`.
    MethodNotAllowed {
        /// The method asked for.
        method: String,
        /// An allowed method that differs only in case: methods are
        /// case-sensitive, and browsers uppercase only the six standard ones.
        case_mismatch: Option<String>,
    },
    /// An element of `Access-Control-Request-Headers` is not a header name,
    /// or the list is longer than [`header_list::MAX_LEN`](super::header_list::MAX_LEN)
    /// bytes.
    MalformedHeaders,
    /// A requested header is not in `allow_headers`.
    HeaderNotAllowed {
        /// The header name asked for, as received.
        name: String,
    },
    /// The preflight asks for private network access, which is not enabled.
    PrivateNetworkNotAllowed,
}

/// The outcome of evaluating one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The response may be read by the requesting origin (or the request is not CORS).
    Allowed(Allowed),
    /// The browser will block the response.
    Refused(Refusal),
}

impl Verdict {
    /// A stable machine-readable code: `non-cors`, `origin-exact`,
    /// `origin-any`, `origin-pattern`, `origin-regex`, `origin-not-allowed`,
    /// `multiple-origins`, `malformed-method`, `method-not-allowed`,
    /// `malformed-headers`, `header-not-allowed`, `private-network-not-allowed`.
    pub fn code(&self) -> &'static str {
        match self {
            Verdict::Allowed(Allowed::NotCors) => "non-cors",
            Verdict::Allowed(Allowed::Origin(m)) => match m {
                OriginMatch::Exact => "origin-exact",
                OriginMatch::Any => "origin-any",
                OriginMatch::Pattern(_) => "origin-pattern",
                OriginMatch::Regex(_) => "origin-regex",
            },
            Verdict::Refused(r) => match r {
                Refusal::OriginNotAllowed { .. } => "origin-not-allowed",
                Refusal::MultipleOrigins => "multiple-origins",
                Refusal::MalformedMethod => "malformed-method",
                Refusal::MethodNotAllowed { .. } => "method-not-allowed",
                Refusal::MalformedHeaders => "malformed-headers",
                Refusal::HeaderNotAllowed { .. } => "header-not-allowed",
                Refusal::PrivateNetworkNotAllowed => "private-network-not-allowed",
            },
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.code())?;
        match self {
            Verdict::Allowed(Allowed::NotCors) => {
                f.write_str("no Origin header, so this is not a CORS request")
            }
            Verdict::Allowed(Allowed::Origin(m)) => match m {
                OriginMatch::Exact => f.write_str("the origin is listed in allow_origins"),
                OriginMatch::Any => f.write_str("allow_origins has `*`"),
                OriginMatch::Pattern(p) => write!(f, "the origin matches the pattern `{p}`"),
                OriginMatch::Regex(r) => write!(f, "the origin matches the regex `{r}`"),
            },
            Verdict::Refused(r) => match r {
                Refusal::OriginNotAllowed { origin } => write!(
                    f,
                    "the origin `{}` matches no entry of allow_origins or allow_origin_regex",
                    String::from_utf8_lossy(origin.as_bytes())
                ),
                Refusal::MultipleOrigins => {
                    f.write_str("the request has several Origin headers; browsers send one")
                }
                Refusal::MalformedMethod => {
                    f.write_str("Access-Control-Request-Method is not a valid method name")
                }
                Refusal::MethodNotAllowed {
                    method,
                    case_mismatch: None,
                } => write!(f, "the method `{method}` is not in allow_methods"),
                Refusal::MethodNotAllowed {
                    method,
                    case_mismatch: Some(allowed),
                } => write!(
                    f,
                    "the method `{method}` is not in allow_methods; `{allowed}` is, but methods \
                     are case-sensitive and browsers only uppercase DELETE, GET, HEAD, OPTIONS, \
                     POST and PUT: send `{allowed}` from the page"
                ),
                Refusal::MalformedHeaders => write!(
                    f,
                    "Access-Control-Request-Headers has an element that is not a header name, \
                     or is longer than {} bytes",
                    super::header_list::MAX_LEN
                ),
                Refusal::HeaderNotAllowed { name } => {
                    write!(f, "the request header `{name}` is not in allow_headers")
                }
                Refusal::PrivateNetworkNotAllowed => f.write_str(
                    "the preflight asks for private network access and allow_private_network is false",
                ),
            },
        }
    }
}

/// The CORS response headers a decision sets. Values are precomputed at
/// build time or borrowed from the request, so filling this struct never
/// allocates on the allowed-actual-request path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CorsHeaders {
    /// `Access-Control-Allow-Origin`.
    pub allow_origin: Option<HeaderValue>,
    /// `Access-Control-Allow-Credentials: true`.
    pub allow_credentials: bool,
    /// `Access-Control-Allow-Methods` (preflight).
    pub allow_methods: Option<HeaderValue>,
    /// `Access-Control-Allow-Headers` (preflight).
    pub allow_headers: Option<HeaderValue>,
    /// `Access-Control-Max-Age` (preflight).
    pub max_age: Option<HeaderValue>,
    /// `Access-Control-Allow-Private-Network: true` (preflight).
    pub allow_private_network: bool,
    /// `Access-Control-Expose-Headers` (actual).
    pub expose_headers: Option<HeaderValue>,
    /// The request headers the answer depends on, for `Vary`.
    pub vary: Option<HeaderValue>,
}

/// `Access-Control-Allow-Private-Network` (Private Network Access draft §3).
pub const ACCESS_CONTROL_ALLOW_PRIVATE_NETWORK: HeaderName =
    HeaderName::from_static("access-control-allow-private-network");
/// `Access-Control-Request-Private-Network` (Private Network Access draft §3).
pub const ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK: HeaderName =
    HeaderName::from_static("access-control-request-private-network");

/// The value of the boolean headers, a static to lend without cloning.
static TRUE: HeaderValue = HeaderValue::from_static("true");

impl CorsHeaders {
    /// The `Access-Control-*` response headers a policy sets, lowercase, in
    /// the order of [`CorsHeaders::iter`]; every other engine that enforces
    /// the policy must drop the upstream's own copies of these.
    pub const ACCESS_CONTROL_NAMES: [&'static str; 7] = [
        "access-control-allow-origin",
        "access-control-allow-credentials",
        "access-control-allow-methods",
        "access-control-allow-headers",
        "access-control-max-age",
        "access-control-allow-private-network",
        "access-control-expose-headers",
    ];

    /// Every header these can set, in a fixed order (`Vary` last), with its
    /// value when it is set.
    fn entries(&self) -> [(HeaderName, Option<&HeaderValue>); 8] {
        let flag = |on: bool| on.then_some(&TRUE);
        [
            (
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                self.allow_origin.as_ref(),
            ),
            (
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                flag(self.allow_credentials),
            ),
            (
                header::ACCESS_CONTROL_ALLOW_METHODS,
                self.allow_methods.as_ref(),
            ),
            (
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                self.allow_headers.as_ref(),
            ),
            (header::ACCESS_CONTROL_MAX_AGE, self.max_age.as_ref()),
            (
                ACCESS_CONTROL_ALLOW_PRIVATE_NETWORK,
                flag(self.allow_private_network),
            ),
            (
                header::ACCESS_CONTROL_EXPOSE_HEADERS,
                self.expose_headers.as_ref(),
            ),
            (header::VARY, self.vary.as_ref()),
        ]
    }

    /// The headers as (name, value) pairs, in a fixed order.
    pub fn iter(&self) -> impl Iterator<Item = (HeaderName, HeaderValue)> + '_ {
        self.entries()
            .into_iter()
            .filter_map(|(n, v)| v.map(|v| (n, v.clone())))
    }

    /// Writes these headers into a response: every `Access-Control-*`
    /// response header already there is removed first (the policy is the
    /// single source of truth), and `Vary` is merged with what is there,
    /// never overwritten and never duplicated (RFC 9110 §12.5.5).
    ///
    /// Allocation-free unless the map has to grow; one map operation per
    /// header the policy sets, and the removals are skipped when the
    /// response has no `Access-Control-*` header (the usual case).
    pub fn apply_to(&self, headers: &mut HeaderMap) {
        let [access_control @ .., _vary] = self.entries();
        // The usual response has no `Access-Control-*` header of its own:
        // then only the headers the policy sets are touched.
        let clear = has_access_control_header(headers);
        for (name, value) in access_control {
            match value {
                Some(value) => {
                    headers.insert(name, value.clone());
                }
                None if clear => {
                    headers.remove(name);
                }
                None => {}
            }
        }
        if let Some(vary) = &self.vary {
            merge_vary(headers, vary);
        }
    }
}

/// Whether `headers` may hold an `Access-Control-*` header. Scanning the
/// names of a small map is cheaper than looking up seven names; a large
/// map is assumed to have one.
fn has_access_control_header(headers: &HeaderMap) -> bool {
    const SCAN_LIMIT: usize = 16;
    headers.keys_len() > SCAN_LIMIT
        || headers.keys().any(|name| {
            name.as_str()
                .as_bytes()
                .get(..15)
                .is_some_and(|prefix| prefix == b"access-control-")
        })
}

/// Adds the field names of `value` (a comma-separated `Vary` list) to the
/// `Vary` header of `headers`, skipping names already there (compared
/// case-insensitively) and doing nothing when `Vary: *` is present
/// (RFC 9110 §12.5.5). Appends a header line rather than rewriting, so no
/// string is built.
pub fn merge_vary(headers: &mut HeaderMap, value: &HeaderValue) {
    if let header::Entry::Vacant(vacant) = headers.entry(header::VARY) {
        vacant.insert(value.clone());
        return;
    }
    let present = |name: &[u8]| {
        headers.get_all(header::VARY).iter().any(|line| {
            line.as_bytes()
                .split(|&b| b == b',')
                .map(super::header_list::trim_ows)
                .any(|existing| existing == b"*" || existing.eq_ignore_ascii_case(name))
        })
    };
    let wanted = value
        .as_bytes()
        .split(|&b| b == b',')
        .map(super::header_list::trim_ows);
    let all_present = wanted.clone().all(|n| n.is_empty() || present(n));
    if all_present {
        return;
    }
    let none_present = wanted.clone().all(|n| n.is_empty() || !present(n));
    if none_present {
        headers.append(header::VARY, value.clone());
        return;
    }
    // Some names are there already: add only the missing ones.
    let missing: Vec<&[u8]> = wanted.filter(|n| !n.is_empty() && !present(n)).collect();
    let joined = missing.join(&b", "[..]);
    if let Ok(v) = HeaderValue::from_bytes(&joined) {
        headers.append(header::VARY, v);
    }
}

/// What the policy answers to one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// How the request was classified.
    pub kind: RequestKind,
    /// Allowed or refused, and why.
    pub verdict: Verdict,
    /// For a preflight, the status of the response the policy generates
    /// itself (204 by default when allowed, 403 when refused); `None` when
    /// the application answers.
    pub status: Option<StatusCode>,
    /// The headers to set.
    pub headers: CorsHeaders,
}

impl Decision {
    /// Whether the browser will let the page read the response (always
    /// true for non-CORS requests).
    pub fn is_allowed(&self) -> bool {
        matches!(self.verdict, Verdict::Allowed(_))
    }

    /// Whether the policy answers this request itself (a preflight) instead
    /// of passing it to the application.
    pub fn is_preflight(&self) -> bool {
        self.kind == RequestKind::Preflight
    }

    /// A complete preflight response with an empty body, or `None` when the
    /// request is not a preflight. [`Policy::preflight_response`](super::Policy::preflight_response)
    /// gives the same response, faster.
    pub fn preflight_response<B: Default>(&self) -> Option<http::Response<B>> {
        let status = self.status?;
        let mut response = http::Response::new(B::default());
        *response.status_mut() = status;
        *response.headers_mut() = super::preflight_template::preflight_headers(&self.headers);
        Some(response)
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn access_control_names_are_the_entries() {
        let names: Vec<String> = CorsHeaders::default().entries()[..7]
            .iter()
            .map(|(n, _)| n.as_str().to_string())
            .collect();
        assert_eq!(names, CorsHeaders::ACCESS_CONTROL_NAMES);
    }

    use super::*;

    #[test]
    fn vary_is_merged_never_duplicated() {
        let mut h = HeaderMap::new();
        h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
        merge_vary(&mut h, &HeaderValue::from_static("origin"));
        merge_vary(&mut h, &HeaderValue::from_static("origin"));
        let all: Vec<_> = h.get_all(header::VARY).iter().collect();
        assert_eq!(all, ["Accept-Encoding", "origin"]);

        let mut h = HeaderMap::new();
        h.insert(header::VARY, HeaderValue::from_static("ORIGIN, accept"));
        merge_vary(
            &mut h,
            &HeaderValue::from_static("origin, access-control-request-method"),
        );
        let all: Vec<_> = h.get_all(header::VARY).iter().collect();
        assert_eq!(all, ["ORIGIN, accept", "access-control-request-method"]);

        let mut h = HeaderMap::new();
        h.insert(header::VARY, HeaderValue::from_static("*"));
        merge_vary(&mut h, &HeaderValue::from_static("origin"));
        assert_eq!(h.get_all(header::VARY).iter().count(), 1);
    }

    #[test]
    fn apply_replaces_existing_cors_headers() {
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
        let headers = CorsHeaders {
            vary: Some(HeaderValue::from_static("origin")),
            ..Default::default()
        };
        headers.apply_to(&mut h);
        assert!(h.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
        assert!(h.get(header::ACCESS_CONTROL_ALLOW_CREDENTIALS).is_none());
        assert_eq!(h.get(header::VARY).unwrap(), "origin");
    }
}
