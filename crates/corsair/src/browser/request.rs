//! What a script asks for (`fetch(url, { method, headers, credentials })`
//! in mode "cors"), and the HTTP requests the browser sends for it.
//!
//! [`BrowserRequest::new`] does what the `Request` constructor and
//! `Headers` guard "request" do (Fetch §5.3 "new Request", §5.2
//! "Headers"): it normalizes the method, throws (here: returns a
//! [`RequestError`]) on forbidden or malformed methods and header names
//! or values, and silently drops forbidden request-headers.

use crate::names::{is_forbidden_method, is_forbidden_request_header, is_token, normalize_method};
use crate::origin::Origin;
use serde::{Serialize, Serializer};

/// Fetch §2.2.5 request "credentials mode".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Credentials {
    /// Never send or accept credentials.
    Omit,
    /// Credentials only for same-origin requests; `fetch()`'s default.
    #[default]
    SameOrigin,
    /// Always send credentials; CORS then needs an exact origin and
    /// `Access-Control-Allow-Credentials: true`.
    Include,
}

impl Credentials {
    /// The name used by `fetch()`: `omit`, `same-origin`, `include`.
    pub fn name(self) -> &'static str {
        match self {
            Credentials::Omit => "omit",
            Credentials::SameOrigin => "same-origin",
            Credentials::Include => "include",
        }
    }
}

impl std::str::FromStr for Credentials {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "omit" => Ok(Credentials::Omit),
            "same-origin" => Ok(Credentials::SameOrigin),
            "include" => Ok(Credentials::Include),
            _ => Err(format!(
                "unknown credentials mode `{s}`: use omit, same-origin or include"
            )),
        }
    }
}

/// Why `fetch()` would throw a `TypeError` before sending anything.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// The URL does not parse.
    #[error("invalid URL `{url}`: {reason}; give an absolute http:// or https:// URL")]
    InvalidUrl {
        /// The input.
        url: String,
        /// The parser's reason.
        reason: String,
    },
    /// Only http and https are fetched over the network.
    #[error("unsupported scheme `{0}`: CORS requests go to http:// or https:// URLs")]
    UnsupportedScheme(String),
    /// Fetch §5.3 "new Request" step 5.4: a URL with credentials throws.
    #[error("the URL contains a username or password, which fetch() refuses: remove the `user:pass@` part")]
    UrlWithCredentials,
    /// The method is not a token (Fetch §5.3 step 25.2).
    #[error(
        "`{0}` is not a valid method: a method is a token (letters, digits, and !#$%&'*+-.^_`|~)"
    )]
    InvalidMethod(String),
    /// CONNECT, TRACE and TRACK throw (Fetch §5.3 step 25.2).
    #[error("`{0}` is a forbidden method: browsers refuse to send CONNECT, TRACE or TRACK")]
    ForbiddenMethod(String),
    /// The header name is not a token.
    #[error("`{0}` is not a valid header name: a header name is a token")]
    InvalidHeaderName(String),
    /// The value has NUL, CR or LF, or is otherwise not sendable.
    #[error("the value of `{0}` is not a valid header value: it may not contain NUL, CR or LF")]
    InvalidHeaderValue(String),
}

/// A script's `fetch()` call in mode "cors".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrowserRequest {
    pub(crate) url: url::Url,
    pub(crate) method: String,
    pub(crate) headers: Vec<(http::HeaderName, http::HeaderValue)>,
    pub(crate) dropped: Vec<String>,
    pub(crate) credentials: Credentials,
    pub(crate) origin: Origin,
    pub(crate) partition: Option<String>,
}

impl BrowserRequest {
    /// Builds the request as `fetch(url, {method, headers, credentials})`
    /// would from a page at `origin`. Forbidden request-headers are dropped
    /// silently (see [`BrowserRequest::dropped_headers`]).
    pub fn new<'h, I>(
        origin: Origin,
        url: &str,
        method: &str,
        headers: I,
        credentials: Credentials,
    ) -> Result<Self, RequestError>
    where
        I: IntoIterator<Item = (&'h str, &'h [u8])>,
    {
        let parsed = url::Url::parse(url).map_err(|e| RequestError::InvalidUrl {
            url: url.to_string(),
            reason: e.to_string(),
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(RequestError::UnsupportedScheme(parsed.scheme().to_string()));
        }
        if includes_credentials(&parsed) {
            return Err(RequestError::UrlWithCredentials);
        }
        if !is_token(method) {
            return Err(RequestError::InvalidMethod(method.to_string()));
        }
        if is_forbidden_method(method) {
            return Err(RequestError::ForbiddenMethod(method.to_string()));
        }
        let method = normalize_method(method).into_owned();
        let mut out = Vec::new();
        let mut dropped = Vec::new();
        for (name, value) in headers {
            if !is_token(name) {
                return Err(RequestError::InvalidHeaderName(name.to_string()));
            }
            // Fetch §5.2 "normalize": strip leading/trailing HTTP whitespace.
            let value = trim_http_whitespace(value);
            if value.iter().any(|b| matches!(b, 0 | b'\n' | b'\r')) {
                return Err(RequestError::InvalidHeaderValue(name.to_string()));
            }
            if is_forbidden_request_header(name, value) {
                dropped.push(name.to_ascii_lowercase());
                continue;
            }
            let hn = http::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| RequestError::InvalidHeaderName(name.to_string()))?;
            let hv = http::HeaderValue::from_bytes(value)
                .map_err(|_| RequestError::InvalidHeaderValue(name.to_string()))?;
            out.push((hn, hv));
        }
        Ok(BrowserRequest {
            url: parsed,
            method,
            headers: out,
            dropped,
            credentials,
            origin,
            partition: None,
        })
    }

    /// Sets the network partition key (Fetch §2.7 "determine the network
    /// partition key"; normally the top-level site). By default the page's
    /// origin stands for it.
    pub fn with_partition(mut self, key: impl Into<String>) -> Self {
        self.partition = Some(key.into());
        self
    }

    /// The target URL.
    pub fn url(&self) -> &url::Url {
        &self.url
    }

    /// The normalized method (`put` → `PUT`, `patch` stays `patch`).
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The headers that will be sent, as given (minus forbidden ones).
    pub fn headers(&self) -> &[(http::HeaderName, http::HeaderValue)] {
        &self.headers
    }

    /// Lowercase names of forbidden request-headers that were dropped.
    pub fn dropped_headers(&self) -> &[String] {
        &self.dropped
    }

    /// The credentials mode.
    pub fn credentials(&self) -> Credentials {
        self.credentials
    }

    /// The page's origin.
    pub fn origin(&self) -> &Origin {
        &self.origin
    }
}

/// URL Standard "includes credentials": a non-empty username or password.
pub fn includes_credentials(url: &url::Url) -> bool {
    !url.username().is_empty() || url.password().is_some()
}

/// The origin of a URL, serialized as browsers do (URL Standard §4
/// "origin", HTML "ASCII serialization of an origin"), parsed into a
/// [`crate::Origin`]. Non-http(s) URLs have opaque origins (`null`).
pub fn origin_of(url: &url::Url) -> Origin {
    let text = url.origin().ascii_serialization();
    Origin::parse(&text).unwrap_or_else(|_| Origin::opaque())
}

fn trim_http_whitespace(v: &[u8]) -> &[u8] {
    let ws = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r');
    let start = v.iter().position(|b| !ws(b)).unwrap_or(v.len());
    let end = v.iter().rposition(|b| !ws(b)).map_or(start, |i| i + 1);
    &v[start..end.max(start)]
}

/// An HTTP request the browser sends: a preflight or the actual request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HttpRequest {
    /// The method.
    #[serde(serialize_with = "ser_method")]
    pub method: http::Method,
    /// The URL.
    #[serde(serialize_with = "ser_url")]
    pub url: url::Url,
    /// The headers, in order, exactly as sent.
    #[serde(serialize_with = "ser_headers")]
    pub headers: http::HeaderMap,
    /// Whether the browser attaches credentials (cookies, HTTP
    /// authentication) to this request: Fetch §4.5 "HTTP-network-or-cache
    /// fetch" includeCredentials, true for credentials mode `include`, or
    /// `same-origin` while the response tainting is `basic`. Never for a
    /// preflight (§4.9 step 1: credentials mode `same-origin` on a
    /// cross-origin request).
    pub include_credentials: bool,
}

fn ser_method<S: Serializer>(m: &http::Method, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(m.as_str())
}

fn ser_url<S: Serializer>(u: &url::Url, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(u.as_str())
}

/// Serializes a header map as a list of `[name, value]` pairs, values
/// decoded as Latin-1 so no byte is lost.
pub fn ser_headers<S: Serializer>(h: &http::HeaderMap, s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    let mut seq = s.serialize_seq(Some(h.len()))?;
    for (name, value) in h {
        let v: String = value.as_bytes().iter().map(|&b| char::from(b)).collect();
        seq.serialize_element(&(name.as_str(), v))?;
    }
    seq.end()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin() -> Origin {
        Origin::parse("https://app.example").expect("valid origin")
    }

    #[test]
    fn constructor_rules() {
        let none: Vec<(&str, &[u8])> = vec![];
        let r = BrowserRequest::new(
            origin(),
            "https://api.example/x",
            "put",
            none.clone(),
            Credentials::Omit,
        )
        .expect("valid");
        assert_eq!(r.method(), "PUT");
        let r = BrowserRequest::new(
            origin(),
            "https://api.example/x",
            "patch",
            none.clone(),
            Credentials::Omit,
        )
        .expect("valid");
        assert_eq!(r.method(), "patch");
        assert_eq!(
            BrowserRequest::new(
                origin(),
                "https://api.example/",
                "trace",
                none.clone(),
                Credentials::Omit
            ),
            Err(RequestError::ForbiddenMethod("trace".into()))
        );
        assert_eq!(
            BrowserRequest::new(
                origin(),
                "https://api.example/",
                "GE T",
                none.clone(),
                Credentials::Omit
            ),
            Err(RequestError::InvalidMethod("GE T".into()))
        );
        assert_eq!(
            BrowserRequest::new(
                origin(),
                "https://u:p@api.example/",
                "GET",
                none.clone(),
                Credentials::Omit
            ),
            Err(RequestError::UrlWithCredentials)
        );
        assert!(matches!(
            BrowserRequest::new(
                origin(),
                "ftp://api.example/",
                "GET",
                none.clone(),
                Credentials::Omit
            ),
            Err(RequestError::UnsupportedScheme(_))
        ));
        assert!(matches!(
            BrowserRequest::new(origin(), "not a url", "GET", none, Credentials::Omit),
            Err(RequestError::InvalidUrl { .. })
        ));
    }

    #[test]
    fn forbidden_headers_dropped_values_trimmed() {
        let h: Vec<(&str, &[u8])> = vec![
            ("Cookie", b"a=b"),
            ("Sec-Fetch-Mode", b"no-cors"),
            ("X-HTTP-Method-Override", b"TRACE"),
            ("X-Ok", b"  v \t"),
        ];
        let r = BrowserRequest::new(
            origin(),
            "https://api.example/",
            "GET",
            h,
            Credentials::Include,
        )
        .expect("valid");
        assert_eq!(
            r.dropped_headers(),
            ["cookie", "sec-fetch-mode", "x-http-method-override"]
        );
        assert_eq!(r.headers().len(), 1);
        assert_eq!(r.headers()[0].1.as_bytes(), b"v");
        let bad: Vec<(&str, &[u8])> = vec![("X-Bad", b"a\r\nb")];
        assert!(BrowserRequest::new(
            origin(),
            "https://api.example/",
            "GET",
            bad,
            Credentials::Omit
        )
        .is_err());
        let bad: Vec<(&str, &[u8])> = vec![("X Bad", b"a")];
        assert!(BrowserRequest::new(
            origin(),
            "https://api.example/",
            "GET",
            bad,
            Credentials::Omit
        )
        .is_err());
    }

    #[test]
    fn url_origins() {
        let u = url::Url::parse("HTTPS://API.Example:443/x").expect("url");
        assert_eq!(origin_of(&u).as_str(), "https://api.example");
        let u = url::Url::parse("http://[::1]:8080/").expect("url");
        assert_eq!(origin_of(&u).as_str(), "http://[::1]:8080");
        let u = url::Url::parse("data:text/plain,x").expect("url");
        assert!(origin_of(&u).as_ref().is_opaque());
    }
}
