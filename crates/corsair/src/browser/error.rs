//! Diagnostics: every way a CORS request fails, with the console message
//! each browser prints, a plain explanation, and the server-side fix.
//!
//! Console wordings:
//! - Chromium: the templates of Blink's `cors_error_string.cc`
//!   (third_party/blink/renderer/platform/loader/cors/), for a `fetch()`
//!   initiator (which adds the "no-cors" hint to some messages).
//! - Firefox: the `CORS*` reasons of dom/locales/en-US/chrome/dom/dom.properties
//!   as documented on MDN's "CORS errors" pages, with Firefox's curly quotes.
//! - WebKit: the strings of Source/WebCore/loader/CrossOriginAccessControl.cpp
//!   and CrossOriginPreflightResultCache.cpp followed by the
//!   "Fetch API cannot load" line.
//! - Spec: a message worded after the Fetch Standard step that fails.
//!
//! Redirect-limit and redirect-location failures are network errors, not
//! CORS errors, in every engine; their messages are the engines' network
//! error lines where known.

use super::profile::Profile;
use super::request::Credentials;
use serde::Serialize;

/// Where in the flow the failure happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// The CORS-preflight request (`OPTIONS`).
    Preflight,
    /// A redirect response to the actual request.
    Redirect,
    /// The final response to the actual request.
    Actual,
}

/// What went wrong. The serde tag is the stable [`CorsErrorKind::code`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "code", rename_all = "kebab-case")]
pub enum CorsErrorKind {
    /// No `Access-Control-Allow-Origin` (Fetch §4.10 CORS check step 2).
    MissingAllowOrigin,
    /// `Access-Control-Allow-Origin: *` under credentials mode `include`
    /// (Fetch §4.10 step 3 only honours `*` without credentials).
    WildcardWithCredentials,
    /// Several origins, or several header lines (Fetch §3.3.4: the header
    /// holds one origin; "get" joins lines with `, `, which never equals
    /// an origin).
    MultipleAllowOrigin {
        /// The combined value.
        value: String,
    },
    /// A value that is not an origin at all, e.g. `*.example.com`.
    InvalidAllowOrigin {
        /// The value.
        value: String,
    },
    /// A well-formed origin that is not byte-equal to the request's
    /// serialized origin (Fetch §4.10 step 4).
    AllowOriginMismatch {
        /// The value.
        value: String,
    },
    /// Credentials mode `include` but `Access-Control-Allow-Credentials`
    /// is not exactly `true` (Fetch §4.10 steps 6-8).
    CredentialsNotTrue {
        /// The value received, if any.
        value: Option<String>,
    },
    /// The preflight's status is not 200-299 (Fetch §4.9 step 7: "ok
    /// status").
    PreflightNotOk {
        /// The status.
        status: u16,
    },
    /// The preflight was answered with a redirect, which a preflight never
    /// follows (Fetch §4.9 uses HTTP-network-or-cache fetch; 3xx is not ok).
    RedirectInPreflight {
        /// The status.
        status: u16,
    },
    /// `Access-Control-Allow-Methods` has an element that is not a token
    /// (Fetch §4.9 step 7.3).
    InvalidAllowMethodsToken {
        /// The offending element.
        token: String,
        /// The whole value.
        value: String,
    },
    /// `Access-Control-Allow-Headers` has an element that is not a token
    /// (Fetch §4.9 step 7.3).
    InvalidAllowHeadersToken {
        /// The offending element.
        token: String,
        /// The whole value.
        value: String,
    },
    /// The method is not safelisted and not allowed (Fetch §4.9 step 7.5).
    MethodNotAllowed {
        /// The request method.
        method: String,
        /// The preflight said `*`, which credentials mode `include`
        /// does not honour.
        wildcard_ignored: bool,
    },
    /// A CORS-unsafe request header is not allowed (Fetch §4.9 steps
    /// 7.6-7.7).
    HeaderNotAllowed {
        /// The lowercase header name.
        name: String,
        /// The preflight said `*`, which credentials mode `include` does
        /// not honour or which does not cover `Authorization` (Fetch; see
        /// [`super::Profile::wildcard_covers_authorization`]).
        wildcard_ignored: bool,
        /// Every request header the preflight does not allow, `name`
        /// first (lowercase, in the order Fetch checks them).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        disallowed: Vec<String>,
    },
    /// More than 20 redirects (Fetch §4.4 "HTTP-redirect fetch" step 7).
    TooManyRedirects,
    /// A redirect to a URL with `user:pass@` (Fetch §4.4 steps 9-10).
    RedirectWithUserinfo {
        /// The resolved location.
        location: String,
    },
    /// A redirect to a scheme other than http or https (Fetch §4.4 step 6).
    RedirectNotHttp {
        /// The resolved location.
        location: String,
    },
    /// A `Location` that does not parse as a URL (Fetch §4.4 step 5).
    InvalidRedirectLocation {
        /// The raw value.
        location: String,
    },
}

impl CorsErrorKind {
    /// The stable machine-readable code, e.g. `missing-allow-origin`.
    pub fn code(&self) -> &'static str {
        match self {
            CorsErrorKind::MissingAllowOrigin => "missing-allow-origin",
            CorsErrorKind::WildcardWithCredentials => "wildcard-with-credentials",
            CorsErrorKind::MultipleAllowOrigin { .. } => "multiple-allow-origin",
            CorsErrorKind::InvalidAllowOrigin { .. } => "invalid-allow-origin",
            CorsErrorKind::AllowOriginMismatch { .. } => "allow-origin-mismatch",
            CorsErrorKind::CredentialsNotTrue { .. } => "credentials-not-true",
            CorsErrorKind::PreflightNotOk { .. } => "preflight-not-ok",
            CorsErrorKind::RedirectInPreflight { .. } => "redirect-in-preflight",
            CorsErrorKind::InvalidAllowMethodsToken { .. } => "invalid-allow-methods-token",
            CorsErrorKind::InvalidAllowHeadersToken { .. } => "invalid-allow-headers-token",
            CorsErrorKind::MethodNotAllowed { .. } => "method-not-allowed",
            CorsErrorKind::HeaderNotAllowed { .. } => "header-not-allowed",
            CorsErrorKind::TooManyRedirects => "too-many-redirects",
            CorsErrorKind::RedirectWithUserinfo { .. } => "redirect-with-userinfo",
            CorsErrorKind::RedirectNotHttp { .. } => "redirect-not-http",
            CorsErrorKind::InvalidRedirectLocation { .. } => "invalid-redirect-location",
        }
    }

    /// Whether this failure comes from the Access-Control-Allow-Origin /
    /// -Credentials check (Fetch §4.10), which Chromium prefixes with
    /// "Response to preflight request doesn't pass access control check"
    /// when it happens on a preflight.
    fn is_access_check(&self) -> bool {
        matches!(
            self,
            CorsErrorKind::MissingAllowOrigin
                | CorsErrorKind::WildcardWithCredentials
                | CorsErrorKind::MultipleAllowOrigin { .. }
                | CorsErrorKind::InvalidAllowOrigin { .. }
                | CorsErrorKind::AllowOriginMismatch { .. }
                | CorsErrorKind::CredentialsNotTrue { .. }
        )
    }
}

/// What the request looked like when it failed: enough to word messages
/// and fixes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorContext {
    /// The URL of the request that failed (the last hop).
    pub url: String,
    /// The URL the script fetched (differs after redirects).
    pub initial_url: String,
    /// The page's origin.
    pub origin: String,
    /// The `Origin` value sent (`null` after a cross-origin redirect).
    pub request_origin: String,
    /// The method of the request that failed.
    pub method: String,
    /// The CORS-unsafe request-header names of the request.
    pub unsafe_headers: Vec<String>,
    /// The credentials mode.
    pub credentials: Credentials,
}

/// A request blocked by the browser, with its context.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CorsError {
    /// What went wrong.
    #[serde(flatten)]
    pub kind: CorsErrorKind,
    /// Which response failed.
    pub stage: Stage,
    /// That response's status, if there was a response.
    pub status: Option<u16>,
    /// The request.
    pub context: ErrorContext,
}

/// What the server must change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fix {
    /// One sentence: which response needs which header.
    pub summary: String,
    /// The header to send (or change), if the fix is a header.
    pub header: Option<String>,
    /// Its value.
    pub value: Option<String>,
    /// A `[cors]` section for corsair's own config that allows this request.
    pub toml: String,
}

/// The hint Chromium appends to Access-Control-Allow-Origin value errors of
/// a `fetch()` (`kNoCorsInformation` in Blink's `cors_error_string.cc`,
/// `GetErrorStringForConsoleMessage`). Older Chromium versions added ", or,
/// if an opaque response serves your needs, set the request's mode to
/// 'no-cors' ..." here and after the missing-header message; Chromium 156
/// prints neither (corsair-conformance: `pf-post-json-acao-wrong-omit`,
/// `pf-post-json-acao-missing-omit`, `pf-post-json-acao-multiple-omit`).
const CHROMIUM_NO_CORS_HINT: &str = " Have the server send the header with a valid value.";

/// Blink's `EncodeHint` (`cors_error_string.cc`): the failed parameter with
/// every byte outside printable ASCII written as `\uXXXX`.
fn chromium_hint(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if (' '..='~').contains(&c) {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("\\u{:04X}", b));
            }
        }
    }
    out
}

impl std::fmt::Display for CorsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message(Profile::Spec))
    }
}

impl std::error::Error for CorsError {}

impl CorsError {
    /// The stable code, e.g. `missing-allow-origin`.
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }

    /// The console message of `profile` for this error, using the stored
    /// context.
    pub fn message(&self, profile: Profile) -> String {
        self.console_message(profile, &self.context.url, &self.context.origin)
    }

    /// The exact console message `profile` prints for a `fetch()` of `url`
    /// from a page at `origin`.
    pub fn console_message(&self, profile: Profile, url: &str, origin: &str) -> String {
        match profile {
            Profile::Chromium => self.chromium(url, origin),
            Profile::Firefox => self.firefox(url),
            Profile::Webkit => self.webkit(url, origin),
            Profile::Spec => self.spec(url, origin),
        }
    }

    /// The `net::` error code Chromium fails the fetch with when this is a
    /// network error rather than a CORS error (the console then shows no
    /// CORS message); `None` for CORS errors, which fail with
    /// `net::ERR_FAILED`.
    pub fn chromium_net_error(&self) -> Option<&'static str> {
        match self.kind {
            CorsErrorKind::TooManyRedirects => Some("ERR_TOO_MANY_REDIRECTS"),
            CorsErrorKind::InvalidRedirectLocation { .. } => Some("ERR_INVALID_REDIRECT"),
            _ => None,
        }
    }

    fn chromium(&self, url: &str, origin: &str) -> String {
        use CorsErrorKind::*;
        let method = &self.context.method;
        // Network errors are not CORS errors in Chromium: the console shows
        // the net error code.
        match &self.kind {
            TooManyRedirects => return format!("{method} {url} net::ERR_TOO_MANY_REDIRECTS"),
            InvalidRedirectLocation { .. } => {
                return format!("{method} {url} net::ERR_INVALID_REDIRECT")
            }
            _ => {}
        }
        let mut s = format!("Access to fetch at '{url}' ");
        if self.context.initial_url != url {
            s.push_str(&format!(
                "(redirected from '{}') ",
                self.context.initial_url
            ));
        }
        s.push_str(&format!(
            "from origin '{origin}' has been blocked by CORS policy: "
        ));
        let preflight_error = self.stage == Stage::Preflight
            && (self.kind.is_access_check()
                || matches!(
                    self.kind,
                    PreflightNotOk { .. } | RedirectInPreflight { .. }
                ));
        if preflight_error {
            s.push_str("Response to preflight request doesn't pass access control check: ");
        }
        let body = match &self.kind {
            MissingAllowOrigin => "No 'Access-Control-Allow-Origin' header is present on the requested resource.".to_string(),
            WildcardWithCredentials => "The value of the 'Access-Control-Allow-Origin' header in the response must not be the wildcard '*' when the request's credentials mode is 'include'.".to_string(),
            MultipleAllowOrigin { value } => format!("The 'Access-Control-Allow-Origin' header contains multiple values '{}', but only one is allowed.{CHROMIUM_NO_CORS_HINT}", chromium_hint(value)),
            InvalidAllowOrigin { value } => format!("The 'Access-Control-Allow-Origin' header contains the invalid value '{}'.{CHROMIUM_NO_CORS_HINT}", chromium_hint(value)),
            AllowOriginMismatch { value } => format!("The 'Access-Control-Allow-Origin' header has a value '{}' that is not equal to the supplied origin.{CHROMIUM_NO_CORS_HINT}", chromium_hint(value)),
            CredentialsNotTrue { value } => format!("The value of the 'Access-Control-Allow-Credentials' header in the response is '{}' which must be 'true' when the request's credentials mode is 'include'.", chromium_hint(value.as_deref().unwrap_or(""))),
            PreflightNotOk { .. } => "It does not have HTTP ok status.".to_string(),
            RedirectInPreflight { .. } => "Redirect is not allowed for a preflight request.".to_string(),
            InvalidAllowMethodsToken { .. } => "Cannot parse Access-Control-Allow-Methods response header field in preflight response.".to_string(),
            InvalidAllowHeadersToken { .. } => "Cannot parse Access-Control-Allow-Headers response header field in preflight response.".to_string(),
            MethodNotAllowed { method, .. } => format!("Method {} is not allowed by Access-Control-Allow-Methods in preflight response.", chromium_hint(method)),
            HeaderNotAllowed { name, .. } => format!("Request header field {} is not allowed by Access-Control-Allow-Headers in preflight response.", chromium_hint(name)),
            // Chromium raises kRedirectContainsCredentials without a failed
            // parameter (CheckRedirectLocation in
            // services/network/cors/cors_url_loader.cc), so the location it
            // prints is always empty: `rd-cross-get-301-to-userinfo-omit`.
            RedirectWithUserinfo { .. } => "Redirect location '' contains a username and password, which is disallowed for cross-origin requests.".to_string(),
            RedirectNotHttp { .. } => "Cross origin requests are only supported for protocol schemes: http, data, isolated-app, chrome-extension, chrome-untrusted, https, edge.".to_string(),
            TooManyRedirects | InvalidRedirectLocation { .. } => String::new(),
        };
        s.push_str(&body);
        s
    }

    /// Firefox's line for `reason`, with `status` when Firefox adds one.
    fn firefox_line(url: &str, reason: &str, status: Option<String>) -> String {
        let mut s = format!("Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote resource at {url}. (Reason: {reason}).");
        if let Some(status) = status {
            s.push_str(&format!(" Status code: {status}."));
        }
        s
    }

    /// Firefox's main console line for this error (the reason).
    ///
    /// Observed in Firefox ESR 153 (corsair-conformance), where Gecko's
    /// strings and MDN's pages say otherwise:
    /// - several `Access-Control-Allow-Origin` values are reported as a
    ///   mismatch with the joined value, not as "Multiple CORS header"
    ///   (`pf-post-json-acao-multiple-omit`, `act-get-acao-multiple-acac-none-omit`);
    /// - the credentials-with-`*` line quotes the URL
    ///   (`act-get-acao-star-acac-none-incl`);
    /// - redirects to a URL with credentials or another scheme, and too
    ///   many redirects, are network failures: "CORS request did not
    ///   succeed" with status `(null)` (`rd-cross-get-301-to-userinfo-omit`,
    ///   `hw-too-many-redirects`).
    fn firefox(&self, url: &str) -> String {
        use CorsErrorKind::*;
        let status = self
            .status
            .map_or_else(|| "(null)".to_string(), |s| s.to_string());
        match &self.kind {
            MissingAllowOrigin => Self::firefox_line(url, "CORS header ‘Access-Control-Allow-Origin’ missing", Some(status)),
            WildcardWithCredentials => Self::firefox_line(&format!("‘{url}’"), "Credential is not supported if the CORS header ‘Access-Control-Allow-Origin’ is ‘*’", None),
            MultipleAllowOrigin { value } | InvalidAllowOrigin { value } | AllowOriginMismatch { value } => Self::firefox_line(url, &format!("CORS header ‘Access-Control-Allow-Origin’ does not match ‘{value}’"), None),
            CredentialsNotTrue { .. } => Self::firefox_line(url, "expected ‘true’ in CORS header ‘Access-Control-Allow-Credentials’", None),
            PreflightNotOk { .. } | RedirectInPreflight { .. } => Self::firefox_line(url, "CORS preflight response did not succeed", Some(status)),
            InvalidAllowMethodsToken { token, .. } => Self::firefox_line(url, &format!("invalid token ‘{token}’ in CORS header ‘Access-Control-Allow-Methods’"), None),
            InvalidAllowHeadersToken { token, .. } => Self::firefox_line(url, &format!("invalid token ‘{token}’ in CORS header ‘Access-Control-Allow-Headers’"), None),
            MethodNotAllowed { .. } => Self::firefox_line(url, "Did not find method in CORS header ‘Access-Control-Allow-Methods’", None),
            HeaderNotAllowed { name, .. } => Self::firefox_line(url, &format!("header ‘{name}’ is not allowed according to header ‘Access-Control-Allow-Headers’ from CORS preflight response"), None),
            RedirectWithUserinfo { .. } | RedirectNotHttp { .. } | TooManyRedirects | InvalidRedirectLocation { .. } => Self::firefox_did_not_succeed(url),
        }
    }

    /// Firefox's closing line for a request that failed in the network
    /// layer, which it also prints after a failed preflight or redirect.
    fn firefox_did_not_succeed(url: &str) -> String {
        Self::firefox_line(url, "CORS request did not succeed", Some("(null)".into()))
    }

    /// Every console line Firefox prints for this error, in order: the
    /// reason; before it, for a redirected preflight, "CORS request
    /// external redirect not allowed"; after it, when the preflight or a
    /// redirect failed, "CORS request did not succeed" (observed in
    /// Firefox ESR 153: `pf-post-json-status-301-omit`,
    /// `pf-post-json-acao-missing-omit`, `rd-bare-301-to-cross`; an actual
    /// request's failure has no such line: `act-get-acao-star-acac-none-incl`).
    pub fn firefox_console(&self) -> Vec<String> {
        use CorsErrorKind::*;
        let url = &self.context.url;
        let main = self.firefox(url);
        match &self.kind {
            RedirectWithUserinfo { .. }
            | RedirectNotHttp { .. }
            | TooManyRedirects
            | InvalidRedirectLocation { .. } => vec![main],
            RedirectInPreflight { .. } => vec![
                Self::firefox_line(url, "CORS request external redirect not allowed", None),
                main,
                Self::firefox_did_not_succeed(url),
            ],
            _ if matches!(self.stage, Stage::Preflight | Stage::Redirect) => {
                vec![main, Self::firefox_did_not_succeed(url)]
            }
            _ => vec![main],
        }
    }

    fn webkit(&self, url: &str, origin: &str) -> String {
        use CorsErrorKind::*;
        let status = self.status.unwrap_or(0);
        let detail = match &self.kind {
            MissingAllowOrigin | InvalidAllowOrigin { .. } | AllowOriginMismatch { .. } => {
                format!("Origin {origin} is not allowed by Access-Control-Allow-Origin. Status code: {status}")
            }
            WildcardWithCredentials => "Cannot use wildcard in Access-Control-Allow-Origin when credentials flag is true.".to_string(),
            MultipleAllowOrigin { .. } => "Access-Control-Allow-Origin cannot contain more than one origin.".to_string(),
            CredentialsNotTrue { .. } => "Credentials flag is true, but Access-Control-Allow-Credentials is not \"true\".".to_string(),
            PreflightNotOk { status } | RedirectInPreflight { status } => format!("Preflight response is not successful. Status code: {status}"),
            InvalidAllowMethodsToken { value, .. } => format!("Header Access-Control-Allow-Methods has an invalid value: {value}"),
            InvalidAllowHeadersToken { value, .. } => format!("Header Access-Control-Allow-Headers has an invalid value: {value}"),
            MethodNotAllowed { method, .. } => format!("Method {method} is not allowed by Access-Control-Allow-Methods."),
            HeaderNotAllowed { name, .. } => format!("Request header field {name} is not allowed by Access-Control-Allow-Headers."),
            RedirectWithUserinfo { location } => format!("Cross-origin redirection to {location} denied by Cross-Origin Resource Sharing policy: URL contains credentials"),
            RedirectNotHttp { location } => format!("Cross-origin redirection to {location} denied by Cross-Origin Resource Sharing policy: not an HTTP(S) URL"),
            TooManyRedirects => "too many HTTP redirects".to_string(),
            InvalidRedirectLocation { location } => format!("Redirect location {location} is not a valid URL"),
        };
        format!("{detail}\nFetch API cannot load {url} due to access control checks.")
    }

    fn spec(&self, url: &str, origin: &str) -> String {
        let what = match self.stage {
            Stage::Preflight => "the CORS-preflight response",
            Stage::Redirect => "a redirect response",
            Stage::Actual => "the response",
        };
        format!(
            "fetch() of '{url}' from origin '{origin}' failed: {what} {} [{}]",
            self.explanation_core(),
            self.code()
        )
    }

    fn explanation_core(&self) -> String {
        use CorsErrorKind::*;
        let origin = &self.context.request_origin;
        // A value a console message did not carry (`corsair explain`).
        match &self.kind {
            MultipleAllowOrigin { value } if value.is_empty() => "has several Access-Control-Allow-Origin values, but the header must hold exactly one origin.".into(),
            PreflightNotOk { status: 0 } => "does not have an ok status; a preflight must be answered with a status from 200 to 299.".into(),
            RedirectInPreflight { status: 0 } => "is a redirect; browsers never follow redirects of preflight requests.".into(),
            InvalidAllowMethodsToken { token, .. } if token.is_empty() => "has an Access-Control-Allow-Methods value that is not a comma-separated list of method tokens; the whole preflight fails.".into(),
            InvalidAllowHeadersToken { token, .. } if token.is_empty() => "has an Access-Control-Allow-Headers value that is not a comma-separated list of header names; the whole preflight fails.".into(),
            MethodNotAllowed { method, .. } if method.is_empty() => "does not list the request's method in Access-Control-Allow-Methods (the comparison is case-sensitive).".into(),
            RedirectWithUserinfo { location } | RedirectNotHttp { location } if location.is_empty() => "redirects to a URL that is not http or https, or that has a username or password; CORS requests refuse such redirects.".into(),
            MissingAllowOrigin => "has no Access-Control-Allow-Origin header.".into(),
            WildcardWithCredentials => "allows any origin with `*`, which does not apply to requests with credentials (credentials mode \"include\").".into(),
            MultipleAllowOrigin { value } => format!("has Access-Control-Allow-Origin `{value}`: several values, but the header must hold exactly one origin."),
            InvalidAllowOrigin { value } => format!("has Access-Control-Allow-Origin `{value}`, which is neither `*` nor an origin."),
            AllowOriginMismatch { value } => format!("has Access-Control-Allow-Origin `{value}`, which is not byte-for-byte the request's origin `{origin}`."),
            CredentialsNotTrue { value: Some(v) } => format!("has Access-Control-Allow-Credentials `{v}`, but a request with credentials needs exactly `true`."),
            CredentialsNotTrue { value: None } => "has no Access-Control-Allow-Credentials header, but a request with credentials needs `Access-Control-Allow-Credentials: true`.".into(),
            PreflightNotOk { status } => format!("has status {status}; a preflight must be answered with a status from 200 to 299."),
            RedirectInPreflight { status } => format!("is a redirect ({status}); browsers never follow redirects of preflight requests."),
            InvalidAllowMethodsToken { token, .. } => format!("has Access-Control-Allow-Methods with `{token}`, which is not a method token; the whole preflight fails."),
            InvalidAllowHeadersToken { token, .. } => format!("has Access-Control-Allow-Headers with `{token}`, which is not a header-name token; the whole preflight fails."),
            MethodNotAllowed { method, wildcard_ignored: true } => format!("allows methods with `*`, which does not apply to requests with credentials, and does not list `{method}`."),
            MethodNotAllowed { method, .. } => format!("does not list `{method}` in Access-Control-Allow-Methods (the comparison is case-sensitive)."),
            HeaderNotAllowed { name, wildcard_ignored: true, .. } if name == "authorization" => "allows headers with `*`, which never covers `Authorization`; it must be listed by name.".into(),
            HeaderNotAllowed { name, wildcard_ignored: true, .. } => format!("allows headers with `*`, which does not apply to requests with credentials, and does not list `{name}`."),
            HeaderNotAllowed { name, .. } => format!("does not list the request header `{name}` in Access-Control-Allow-Headers."),
            TooManyRedirects => "is the 21st redirect; browsers stop after 20.".into(),
            RedirectWithUserinfo { location } => format!("redirects to `{location}`, which has a username or password; CORS requests refuse such redirects."),
            RedirectNotHttp { location } => format!("redirects to `{location}`, which is not http or https."),
            InvalidRedirectLocation { location } => format!("has Location `{location}`, which is not a valid URL."),
        }
    }

    /// What happened, in plain words.
    pub fn explanation(&self) -> String {
        let subject = match self.stage {
            Stage::Preflight => "The preflight (OPTIONS) response",
            Stage::Redirect => "A redirect response",
            Stage::Actual => "The response",
        };
        let mut s = format!("{subject} {}", self.explanation_core());
        if self.stage == Stage::Preflight {
            s.push_str(" The browser therefore never sent the actual request.");
        } else if self.kind.is_access_check() {
            s.push_str(" The server did receive and process the request, but the browser hides the response from the script.");
        }
        s
    }

    /// What the server must send, with a ready `[cors]` snippet for
    /// corsair's config.
    pub fn fix(&self) -> Fix {
        use CorsErrorKind::*;
        let ctx = &self.context;
        let origin = &ctx.origin;
        let which = match self.stage {
            Stage::Preflight => "the OPTIONS (preflight) response",
            Stage::Redirect => "the redirect response",
            Stage::Actual => "the response",
        };
        let tainted = ctx.request_origin == "null" && ctx.origin != "null";
        let acao_value = if tainted {
            "null".to_string()
        } else {
            origin.clone()
        };
        let (summary, header, value) = match &self.kind {
            MissingAllowOrigin | MultipleAllowOrigin { .. } | InvalidAllowOrigin { .. } | AllowOriginMismatch { .. } => {
                let extra = if tainted {
                    " The request was redirected across origins, so the browser sends `Origin: null`: avoid the cross-origin redirect (call the final URL directly), since allowing `null` also allows sandboxed and file: pages."
                } else {
                    " Send it once, with exactly one origin, and add `Vary: Origin` when the value depends on the request."
                };
                (format!("Send `Access-Control-Allow-Origin: {acao_value}` on {which}.{extra}"), Some("Access-Control-Allow-Origin"), Some(acao_value.clone()))
            }
            WildcardWithCredentials => (format!("Replace `*` with the requesting origin on {which}: `Access-Control-Allow-Origin: {acao_value}`, plus `Access-Control-Allow-Credentials: true` and `Vary: Origin`."), Some("Access-Control-Allow-Origin"), Some(acao_value.clone())),
            CredentialsNotTrue { .. } => (format!("Send `Access-Control-Allow-Credentials: true` (exactly, lowercase) on {which}, or do not send credentials from the page."), Some("Access-Control-Allow-Credentials"), Some("true".to_string())),
            PreflightNotOk { .. } => ("Answer the OPTIONS preflight itself with 204 (or 200) and the CORS headers, before authentication, routing or method checks run: preflights never carry cookies or Authorization.".to_string(), None, None),
            RedirectInPreflight { .. } => ("Do not redirect the preflight: answer OPTIONS at this URL, or make the page call the final URL directly (often a missing or extra trailing slash, or http→https).".to_string(), None, None),
            InvalidAllowMethodsToken { .. } => ("Send Access-Control-Allow-Methods as a comma-separated list of method names only, e.g. `GET, POST, PUT`.".to_string(), Some("Access-Control-Allow-Methods"), Some(methods_for(ctx).join(", "))),
            InvalidAllowHeadersToken { .. } => ("Send Access-Control-Allow-Headers as a comma-separated list of header names only, e.g. `content-type, authorization`.".to_string(), Some("Access-Control-Allow-Headers"), Some(ctx.unsafe_headers.join(", "))),
            MethodNotAllowed { method, .. } => (format!("List `{method}` (same case) in Access-Control-Allow-Methods on the preflight response."), Some("Access-Control-Allow-Methods"), Some(method.clone())),
            HeaderNotAllowed { name, .. } => (format!("List `{name}` in Access-Control-Allow-Headers on the preflight response{}.", if name == "authorization" { " (by name: `*` never covers it)" } else { "" }), Some("Access-Control-Allow-Headers"), Some(ctx.unsafe_headers.join(", "))),
            TooManyRedirects => ("Break the redirect loop: the URL redirects more than 20 times.".to_string(), None, None),
            RedirectWithUserinfo { .. } => ("Remove the `user:password@` part from the Location header.".to_string(), Some("Location"), None),
            RedirectNotHttp { .. } => ("Redirect only to http or https URLs.".to_string(), Some("Location"), None),
            InvalidRedirectLocation { .. } => ("Send a valid absolute or relative URL in Location.".to_string(), Some("Location"), None),
        };
        Fix {
            summary,
            header: header.map(str::to_string),
            value,
            toml: self.toml(&acao_value),
        }
    }

    fn toml(&self, acao_value: &str) -> String {
        let ctx = &self.context;
        let mut s = String::from("[cors]\n");
        s.push_str(&format!("allow_origins = [{}]\n", quote(acao_value)));
        let methods = methods_for(ctx);
        s.push_str(&format!(
            "allow_methods = [{}]\n",
            methods
                .iter()
                .map(|m| quote(m))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        if !ctx.unsafe_headers.is_empty() {
            s.push_str(&format!(
                "allow_headers = [{}]\n",
                ctx.unsafe_headers
                    .iter()
                    .map(|h| quote(h))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if ctx.credentials == Credentials::Include {
            s.push_str("allow_credentials = true\n");
        }
        s.push_str("max_age = 600\n");
        s
    }
}

fn methods_for(ctx: &ErrorContext) -> Vec<String> {
    let mut m = vec!["GET".to_string(), "POST".to_string()];
    if !m.contains(&ctx.method) && ctx.method != "HEAD" {
        m.push(ctx.method.clone());
    }
    m
}

fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
