//! The state machine that runs a CORS `fetch()` step by step (Fetch §4.1
//! "main fetch", §4.3 "HTTP fetch", §4.4 "HTTP-redirect fetch", §4.9
//! "CORS-preflight fetch"). See the module documentation of
//! [`crate::browser`] for the flow.

use super::cache::{CacheKey, PreflightCache};
use super::check::cors_check;
use super::error::{CorsError, CorsErrorKind, ErrorContext, Stage};
use super::expose::exposed_header_names;
use super::header_list::get_combined;
use super::preflight::{judge_preflight, preflight_request, PreflightInput};
use super::profile::Profile;
use super::redirect::{
    is_redirect_status, is_redirect_tainted, rewritten_method, same_origin, MAX_REDIRECTS,
    REQUEST_BODY_HEADER_NAMES,
};
use super::request::{
    includes_credentials, origin_of, ser_headers, BrowserRequest, Credentials, HttpRequest,
};
use super::safelist::{cors_unsafe_request_header_names, is_cors_non_wildcard_request_header_name};
use crate::names::is_cors_safelisted_method;
use serde::Serialize;
use std::time::Duration;

/// A browser: a profile and its preflight cache. The clock is the
/// caller's ([`Browser::set_time`]).
#[derive(Debug, Clone, Default)]
pub struct Browser {
    profile: Profile,
    cache: PreflightCache,
    now: Duration,
}

impl Browser {
    /// A browser with an empty cache at time zero.
    pub fn new(profile: Profile) -> Self {
        Browser {
            profile,
            cache: PreflightCache::new(),
            now: Duration::ZERO,
        }
    }

    /// The profile.
    pub fn profile(&self) -> Profile {
        self.profile
    }

    /// The preflight cache.
    pub fn cache(&self) -> &PreflightCache {
        &self.cache
    }

    /// Sets the current time (any epoch; only differences matter) and
    /// drops expired cache entries.
    pub fn set_time(&mut self, now: Duration) {
        self.now = now;
        self.cache.purge(now);
    }

    /// Starts a `fetch()`. Drive the returned [`Flow`] with
    /// [`Flow::next_step`] and [`Flow::on_response`].
    pub fn start(&mut self, request: BrowserRequest) -> Flow<'_> {
        let mut headers = request.headers.clone();
        // Fetch §4.1 "fetch" step 12: a request without `Accept` gets
        // `Accept: */*` (destination ""), before any CORS decision.
        if !headers.iter().any(|(n, _)| n == http::header::ACCEPT) {
            headers.push((http::header::ACCEPT, http::HeaderValue::from_static("*/*")));
        }
        let mut flow = Flow {
            browser: self,
            method: request.method.clone(),
            headers,
            url_list: vec![request.url.clone()],
            redirect_count: 0,
            cors_tainting: false,
            preflight_branch: false,
            origin_sent: false,
            deferred_userinfo: None,
            preflight_sent: false,
            cache_hit: false,
            max_age: None,
            exchanges: Vec::new(),
            request,
            phase: Phase::Done(Box::new(Outcome::placeholder())),
        };
        flow.phase = flow.main_fetch();
        flow
    }
}

/// What the caller must do next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "step", content = "value", rename_all = "snake_case")]
pub enum Step {
    /// Send this CORS-preflight request and report the response.
    SendPreflight(HttpRequest),
    /// Send this request (the actual request, or the next hop after a
    /// redirect) and report the response.
    SendActual(HttpRequest),
    /// Finished.
    Done(Box<Outcome>),
}

/// Which request an exchange was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ExchangeKind {
    /// A CORS-preflight request.
    Preflight,
    /// The actual request or a redirect hop of it.
    Actual,
}

/// A response as received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResponseRecord {
    /// The status code.
    pub status: u16,
    /// The headers.
    #[serde(serialize_with = "ser_headers")]
    pub headers: http::HeaderMap,
}

/// One request the browser sent and what came back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exchange {
    /// Preflight or actual.
    pub kind: ExchangeKind,
    /// Why this request was sent the way it was.
    pub note: String,
    /// The request.
    pub request: HttpRequest,
    /// The response, once reported.
    pub response: Option<ResponseRecord>,
}

/// A request's response tainting (Fetch §2.2.5), which decides the type of
/// the response the script gets (`response.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tainting {
    /// Every URL so far was same-origin with the page: a `basic` response,
    /// no CORS checks.
    Basic,
    /// The request went cross-origin at some hop (a later same-origin hop
    /// does not undo it): a `cors` response.
    Cors,
}

impl Tainting {
    /// The `response.type` a script sees: `basic` or `cors`.
    pub fn response_type(self) -> &'static str {
        match self {
            Tainting::Basic => "basic",
            Tainting::Cors => "cors",
        }
    }
}

/// The result of a `fetch()`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// Whether the script gets the response (`fetch()` resolves).
    pub allowed: bool,
    /// The final response's status, if the flow got that far.
    pub status: Option<u16>,
    /// The last URL requested.
    pub final_url: String,
    /// Lowercase names of the response headers the script can read.
    pub exposed_headers: Vec<String>,
    /// Whether any preflight was sent.
    pub preflight_sent: bool,
    /// Whether a needed preflight was answered from the cache.
    pub preflight_cache_hit: bool,
    /// The max-age of the last successful preflight, after the profile's
    /// cap.
    pub preflight_max_age: Option<u64>,
    /// How many redirects were followed.
    pub redirects: u32,
    /// The response tainting when the flow ended (`response.type`).
    pub tainting: Tainting,
    /// Forbidden request-headers the script set, which were dropped.
    pub dropped_headers: Vec<String>,
    /// Why the request was blocked.
    pub error: Option<CorsError>,
    /// Every request sent and its response, in order.
    pub exchanges: Vec<Exchange>,
}

impl Outcome {
    /// The console error lines `profile` prints for this fetch, in order.
    ///
    /// Chromium (observed in corsair-conformance, Chromium 156): a blocked
    /// fetch logs its CORS message, then the resource-load failure
    /// `Failed to load resource: net::ERR_FAILED`; a fetch that fails with
    /// a network error logs only `Failed to load resource: net::<code>`; an
    /// allowed response with a status of 400 or more logs `Failed to load
    /// resource: the server responded with a status of <status> (<reason>)`.
    /// Other profiles: the CORS message alone (their network lines are not
    /// modelled).
    pub fn console_errors(&self, profile: Profile) -> Vec<String> {
        match (&self.error, profile) {
            (Some(e), Profile::Chromium) => match e.chromium_net_error() {
                Some(code) => vec![format!("Failed to load resource: net::{code}")],
                None => vec![
                    e.message(profile),
                    "Failed to load resource: net::ERR_FAILED".to_string(),
                ],
            },
            (Some(e), Profile::Firefox) => e.firefox_console(),
            (Some(e), _) => vec![e.message(profile)],
            (None, Profile::Chromium) => match self.status {
                Some(status) if status >= 400 => {
                    let reason = http::StatusCode::from_u16(status)
                        .ok()
                        .and_then(|s| s.canonical_reason())
                        .unwrap_or("");
                    vec![format!(
                        "Failed to load resource: the server responded with a status of {status} ({reason})"
                    )]
                }
                _ => Vec::new(),
            },
            (None, _) => Vec::new(),
        }
    }

    fn placeholder() -> Self {
        Outcome {
            allowed: false,
            status: None,
            final_url: String::new(),
            exposed_headers: Vec::new(),
            preflight_sent: false,
            preflight_cache_hit: false,
            preflight_max_age: None,
            redirects: 0,
            tainting: Tainting::Basic,
            dropped_headers: Vec::new(),
            error: None,
            exchanges: Vec::new(),
        }
    }
}

#[derive(Debug)]
enum Phase {
    AwaitingPreflight {
        request: HttpRequest,
        unsafe_names: Vec<String>,
    },
    AwaitingActual(HttpRequest),
    Done(Box<Outcome>),
}

/// One `fetch()` in progress.
#[derive(Debug)]
pub struct Flow<'b> {
    browser: &'b mut Browser,
    request: BrowserRequest,
    method: String,
    headers: Vec<(http::HeaderName, http::HeaderValue)>,
    url_list: Vec<url::Url>,
    redirect_count: u32,
    cors_tainting: bool,
    preflight_branch: bool,
    /// A redirect to a URL with credentials, refused once its preflight is
    /// answered ([`Profile::userinfo_checked_after_preflight`]).
    deferred_userinfo: Option<(String, u16)>,
    /// Whether a request of this fetch went out with `Origin`
    /// ([`Profile::keeps_origin_across_redirects`]).
    origin_sent: bool,
    preflight_sent: bool,
    cache_hit: bool,
    max_age: Option<u64>,
    exchanges: Vec<Exchange>,
    phase: Phase,
}

impl Flow<'_> {
    /// What to do now. Calling it again without [`Flow::on_response`]
    /// returns the same step.
    pub fn next_step(&self) -> Step {
        match &self.phase {
            Phase::AwaitingPreflight { request, .. } => Step::SendPreflight(request.clone()),
            Phase::AwaitingActual(r) => Step::SendActual(r.clone()),
            Phase::Done(o) => Step::Done(o.clone()),
        }
    }

    /// The requests sent so far and their responses (the last one has no
    /// response while the flow waits for it).
    pub fn exchanges(&self) -> &[Exchange] {
        &self.exchanges
    }

    /// Whether the flow has finished.
    pub fn is_done(&self) -> bool {
        matches!(self.phase, Phase::Done(_))
    }

    /// Reports the response to the request of the current step and
    /// returns the next step. After [`Step::Done`] this changes nothing.
    pub fn on_response(&mut self, status: u16, headers: &http::HeaderMap) -> Step {
        let phase = std::mem::replace(
            &mut self.phase,
            Phase::Done(Box::new(Outcome::placeholder())),
        );
        self.phase = match phase {
            Phase::Done(o) => Phase::Done(o),
            Phase::AwaitingPreflight { unsafe_names, .. } => {
                self.record_response(status, headers);
                self.after_preflight(status, headers, &unsafe_names)
            }
            Phase::AwaitingActual(_) => {
                self.record_response(status, headers);
                self.after_actual(status, headers)
            }
        };
        self.next_step()
    }

    fn current_url(&self) -> &url::Url {
        // url_list always holds the initial URL.
        &self.url_list[self.url_list.len() - 1]
    }

    /// Fetch §3.1.6 "serializing a request origin".
    fn request_origin(&self) -> String {
        if is_redirect_tainted(&self.request.origin, &self.url_list) {
            "null".to_string()
        } else {
            self.request.origin.as_str().to_string()
        }
    }

    /// The `Origin` of a preflight (and what its answer is checked
    /// against): the request's, except where the profile keeps the page's
    /// after a redirect ([`Profile::preflight_origin_untainted`]).
    fn preflight_origin(&self) -> String {
        if self.browser.profile.preflight_origin_untainted() {
            self.request.origin.as_str().to_string()
        } else {
            self.request_origin()
        }
    }

    fn cache_key(&self) -> CacheKey {
        CacheKey {
            partition: self
                .request
                .partition
                .clone()
                .unwrap_or_else(|| self.request.origin.as_str().to_string()),
            origin: self.request_origin(),
            url: self.current_url().as_str().to_string(),
            credentials: self.request.credentials == Credentials::Include,
        }
    }

    fn header_pairs(&self) -> Vec<(&str, &[u8])> {
        self.headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_bytes()))
            .collect()
    }

    fn unsafe_names(&self) -> Vec<String> {
        cors_unsafe_request_header_names(self.browser.profile, self.header_pairs())
    }

    /// Fetch §4.1 "main fetch" and §4.3 "HTTP fetch" up to sending: basic
    /// or CORS, and whether a preflight is needed.
    fn main_fetch(&mut self) -> Phase {
        let url = self.current_url().clone();
        if !self.cors_tainting && same_origin(&origin_of(&url), &self.request.origin) {
            let note = "same-origin request: no CORS checks".to_string();
            return self.actual_phase(note);
        }
        self.cors_tainting = true;
        let unsafe_names = self.unsafe_names();
        // A hop after one that was preflighted, where the profile keeps
        // preflighting ([`Profile::preflight_sticks_across_redirects`]).
        let forced =
            self.preflight_branch && self.browser.profile.preflight_sticks_across_redirects();
        let method_safe = is_cors_safelisted_method(&self.method) && !forced;
        if method_safe && unsafe_names.is_empty() {
            let note =
                "cross-origin simple request: CORS-safelisted method and headers, no preflight"
                    .to_string();
            return self.actual_phase(note);
        }
        self.preflight_branch = true;
        let key = self.cache_key();
        let (profile, now) = (self.browser.profile, self.browser.now);
        let cache = &self.browser.cache;
        let method_missing = !method_safe && !cache.method_match(profile, &key, &self.method, now);
        let headers_missing: Vec<&String> = unsafe_names
            .iter()
            .filter(|n| !cache.header_match(profile, &key, n, now))
            .collect();
        let mut reasons = Vec::new();
        if forced {
            reasons.push("the request was preflighted before the redirect, and this browser keeps preflighting it".to_string());
        } else if !method_safe {
            reasons.push(format!("method {} is not CORS-safelisted", self.method));
        }
        if !unsafe_names.is_empty() {
            reasons.push(format!(
                "headers need permission: {}",
                unsafe_names.join(", ")
            ));
        }
        if method_missing || !headers_missing.is_empty() {
            let origin = self.preflight_origin();
            let request = preflight_request(&url, &self.method, &unsafe_names, &origin);
            self.preflight_sent = true;
            self.exchanges.push(Exchange {
                kind: ExchangeKind::Preflight,
                note: format!("preflight needed: {}", reasons.join("; ")),
                request: request.clone(),
                response: None,
            });
            Phase::AwaitingPreflight {
                request,
                unsafe_names,
            }
        } else {
            self.cache_hit = true;
            let note = format!(
                "preflight needed ({}) but answered from the preflight cache",
                reasons.join("; ")
            );
            self.actual_phase(note)
        }
    }

    /// Builds the request that goes on the wire.
    fn actual_phase(&mut self, note: String) -> Phase {
        let mut headers = http::HeaderMap::new();
        for (n, v) in &self.headers {
            headers.append(n.clone(), v.clone());
        }
        // Fetch §3.1.6 "append a request `Origin` header": always for CORS,
        // for other requests only when the method is not GET or HEAD.
        let kept = self.origin_sent && self.browser.profile.keeps_origin_across_redirects();
        if self.cors_tainting || kept || !matches!(self.method.as_str(), "GET" | "HEAD") {
            if let Ok(v) = http::HeaderValue::from_str(&self.request_origin()) {
                headers.insert(http::header::ORIGIN, v);
                self.origin_sent = true;
            }
        }
        let method = http::Method::from_bytes(self.method.as_bytes()).unwrap_or(http::Method::GET);
        // Fetch §4.5 "HTTP-network-or-cache fetch" step 8.1 includeCredentials.
        let include_credentials = match self.request.credentials {
            Credentials::Include => true,
            Credentials::SameOrigin => !self.cors_tainting,
            Credentials::Omit => false,
        };
        let request = HttpRequest {
            method,
            url: self.current_url().clone(),
            headers,
            include_credentials,
        };
        self.exchanges.push(Exchange {
            kind: ExchangeKind::Actual,
            note,
            request: request.clone(),
            response: None,
        });
        Phase::AwaitingActual(request)
    }

    fn record_response(&mut self, status: u16, headers: &http::HeaderMap) {
        if let Some(last) = self.exchanges.last_mut() {
            last.response = Some(ResponseRecord {
                status,
                headers: headers.clone(),
            });
        }
    }

    fn after_preflight(
        &mut self,
        status: u16,
        headers: &http::HeaderMap,
        unsafe_names: &[String],
    ) -> Phase {
        if let Some((location, status)) = self.deferred_userinfo.take() {
            return self.fail(
                CorsErrorKind::RedirectWithUserinfo { location },
                Stage::Redirect,
                Some(status),
            );
        }
        let names: Vec<String> = self
            .headers
            .iter()
            .map(|(n, _)| n.as_str().to_string())
            .collect();
        let request_origin = self.preflight_origin();
        let input = PreflightInput {
            profile: self.browser.profile,
            credentials: self.request.credentials,
            request_origin: &request_origin,
            method: &self.method,
            header_names: &names,
            unsafe_names,
        };
        match judge_preflight(input, status, headers) {
            Err(kind) => self.fail(kind, Stage::Preflight, Some(status)),
            Ok(result) => {
                let key = self.cache_key();
                let (profile, now) = (self.browser.profile, self.browser.now);
                self.browser.cache.store(
                    profile,
                    &key,
                    &result.methods,
                    &result.header_names,
                    result.max_age,
                    now,
                );
                self.max_age = Some(result.max_age);
                let note = format!("preflight passed (cached for {} s)", result.max_age);
                self.actual_phase(note)
            }
        }
    }

    fn after_actual(&mut self, status: u16, headers: &http::HeaderMap) -> Phase {
        let location = if is_redirect_status(status) {
            get_combined(headers, "location")
        } else {
            None
        };
        let request_origin = self.request_origin();
        let credentials = self.request.credentials;
        if self.cors_tainting {
            if let Err(kind) = cors_check(headers, credentials, &request_origin) {
                let stage = if location.is_some() {
                    Stage::Redirect
                } else {
                    Stage::Actual
                };
                return self.fail(kind, stage, Some(status));
            }
        }
        match location {
            Some(loc) => self.follow_redirect(status, &loc),
            None => {
                let exposed = exposed_header_names(headers, !self.cors_tainting, credentials);
                self.finish(Some(status), exposed, None)
            }
        }
    }

    /// Fetch §4.4 "HTTP-redirect fetch".
    fn follow_redirect(&mut self, status: u16, location: &[u8]) -> Phase {
        let raw = String::from_utf8_lossy(location).into_owned();
        let current = self.current_url().clone();
        let mut next = match current.join(&raw) {
            Ok(u) => u,
            Err(_) => {
                return self.fail(
                    CorsErrorKind::InvalidRedirectLocation { location: raw },
                    Stage::Redirect,
                    Some(status),
                )
            }
        };
        // Fetch §2.2.6 "location URL": inherit the fragment.
        if next.fragment().is_none() && current.fragment().is_some() {
            next.set_fragment(current.fragment());
        }
        if !matches!(next.scheme(), "http" | "https") {
            let location = next.to_string();
            return self.fail(
                CorsErrorKind::RedirectNotHttp { location },
                Stage::Redirect,
                Some(status),
            );
        }
        if self.redirect_count == MAX_REDIRECTS {
            return self.fail(
                CorsErrorKind::TooManyRedirects,
                Stage::Redirect,
                Some(status),
            );
        }
        self.redirect_count += 1;
        let next_origin = origin_of(&next);
        let mut deferred = None;
        if includes_credentials(&next)
            && (self.cors_tainting || !same_origin(&self.request.origin, &next_origin))
        {
            let location = next.to_string();
            if self.cors_tainting || !self.browser.profile.userinfo_checked_after_preflight() {
                return self.fail(
                    CorsErrorKind::RedirectWithUserinfo { location },
                    Stage::Redirect,
                    Some(status),
                );
            }
            deferred = Some((location, status));
        }
        if let Some(m) = rewritten_method(status, &self.method) {
            self.method = m.to_string();
            self.headers
                .retain(|(n, _)| !REQUEST_BODY_HEADER_NAMES.contains(&n.as_str()));
        }
        if !same_origin(&origin_of(&current), &next_origin) {
            self.headers
                .retain(|(n, _)| !is_cors_non_wildcard_request_header_name(n.as_str()));
        }
        self.url_list.push(next);
        let phase = self.main_fetch();
        match deferred {
            // The preflight goes first; its answer is then refused.
            Some(userinfo) if matches!(phase, Phase::AwaitingPreflight { .. }) => {
                self.deferred_userinfo = Some(userinfo);
                phase
            }
            Some((location, status)) => self.fail(
                CorsErrorKind::RedirectWithUserinfo { location },
                Stage::Redirect,
                Some(status),
            ),
            None => phase,
        }
    }

    fn fail(&mut self, kind: CorsErrorKind, stage: Stage, status: Option<u16>) -> Phase {
        let context = ErrorContext {
            url: self.current_url().to_string(),
            initial_url: self.url_list[0].to_string(),
            origin: self.request.origin.as_str().to_string(),
            request_origin: self.request_origin(),
            method: self.method.clone(),
            unsafe_headers: self.unsafe_names(),
            credentials: self.request.credentials,
        };
        // Fetch §4.1 main fetch: a network error from the preflight branch
        // clears the cache entries for this request.
        if self.preflight_branch {
            let key = self.cache_key();
            self.browser.cache.clear(&key);
        }
        let error = CorsError {
            kind,
            stage,
            status,
            context,
        };
        let final_status = if stage == Stage::Preflight {
            None
        } else {
            status
        };
        self.finish(final_status, Vec::new(), Some(error))
    }

    fn finish(
        &mut self,
        status: Option<u16>,
        exposed: Vec<String>,
        error: Option<CorsError>,
    ) -> Phase {
        Phase::Done(Box::new(Outcome {
            allowed: error.is_none(),
            status,
            final_url: self.current_url().to_string(),
            exposed_headers: exposed,
            preflight_sent: self.preflight_sent,
            preflight_cache_hit: self.cache_hit,
            preflight_max_age: self.max_age,
            redirects: self.redirect_count,
            tainting: if self.cors_tainting {
                Tainting::Cors
            } else {
                Tainting::Basic
            },
            dropped_headers: self.request.dropped.clone(),
            error,
            exchanges: self.exchanges.clone(),
        }))
    }
}
