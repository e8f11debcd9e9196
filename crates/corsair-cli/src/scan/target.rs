//! Scanning one target: send every probe, judge every response.

use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::Method;
use serde::Serialize;

use super::class::{Class, Severity};
use super::judge::{self, Access, Evidence, Finding};
use super::limiter::RateLimiter;
use super::openapi::Operation;
use super::probes::{self, Probe};
use crate::http_client::{HttpClient, Response};

/// The method and header a preflight probe asks for: nobody allows them on purpose.
pub const PROBE_METHOD: &str = "CORSAIRPROBE";
/// See [`PROBE_METHOD`].
pub const PROBE_HEADER: &str = "x-corsair-probe";

/// The result of scanning one URL.
#[derive(Debug, Clone, Serialize)]
pub struct TargetReport {
    /// The URL scanned.
    pub url: String,
    /// The API operation it stands for (`--openapi`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation: Option<Operation>,
    /// `false` when the server's certificate was not verified (`--insecure`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_verified: Option<bool>,
    /// What the scan did not do or could not know (no actual request for a
    /// state-changing method, an operation scanned without credentials, ...).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Findings, most severe first.
    pub findings: Vec<Finding>,
    /// Why the target could not be scanned, if it could not.
    pub error: Option<String>,
}

impl TargetReport {
    /// A report for `url` with nothing in it yet.
    pub fn new(url: &str, operation: Option<&Operation>) -> TargetReport {
        TargetReport {
            url: url.to_string(),
            operation: operation.cloned(),
            certificate_verified: None,
            notes: Vec::new(),
            findings: Vec::new(),
            error: None,
        }
    }
}

/// What the scan of one target needs.
pub struct Scanner<'a> {
    /// The HTTP client.
    pub client: &'a HttpClient,
    /// The global rate limiter.
    pub limiter: &'a RateLimiter,
    /// Extra headers sent on every request (`--header`).
    pub extra: &'a [(HeaderName, HeaderValue)],
    /// Origins the site means to allow, as a corsair policy (`--trusted`).
    pub trusted: &'a corsair::Policy,
    /// The `--trusted` values as written.
    pub trusted_list: &'a [String],
    /// Whether certificates go unverified (`--insecure`).
    pub insecure: bool,
}

/// What a preflight probe asks for: `Access-Control-Request-Method` and,
/// when there are any, `Access-Control-Request-Headers`.
type Ask<'a> = (&'a str, Option<&'a str>);

/// The made-up method and header: a preflight that allows them allows anything.
const MADE_UP: Ask<'static> = (PROBE_METHOD, Some(PROBE_HEADER));

/// A request sent and its response.
type Sent = Option<(HeaderMap, Response)>;
/// A trusted origin with its actual and preflight exchanges.
type TrustedProbe = (String, Sent, Sent);

struct Probed {
    probe: Probe,
    actual: Option<(HeaderMap, Response)>,
    preflight: Option<(HeaderMap, Response)>,
    /// The actual request was not sent on purpose (a method that changes
    /// state): a preflight that lets the origin through is then the whole
    /// evidence, and the browser would send the credentialed request.
    actual_skipped: bool,
}

impl Scanner<'_> {
    async fn send(
        &self,
        method: &Method,
        url: &url::Url,
        origin: &str,
        ask: Option<Ask<'_>>,
    ) -> Option<(HeaderMap, Response)> {
        let mut headers = HeaderMap::new();
        for (n, v) in self.extra {
            headers.append(n.clone(), v.clone());
        }
        headers.insert(header::ORIGIN, HeaderValue::from_str(origin).ok()?);
        if let Some((acrm, acrh)) = ask {
            headers.insert(
                header::ACCESS_CONTROL_REQUEST_METHOD,
                HeaderValue::from_str(acrm).ok()?,
            );
            if let Some(acrh) = acrh {
                headers.insert(
                    header::ACCESS_CONTROL_REQUEST_HEADERS,
                    HeaderValue::from_str(acrh).ok()?,
                );
            }
        }
        self.limiter.wait().await;
        match self.client.send(method, url, &headers).await {
            Ok(r) => Some((headers, r)),
            Err(_) => None,
        }
    }

    fn is_trusted(&self, origin: &str) -> bool {
        let mut h = HeaderMap::new();
        match HeaderValue::from_str(origin) {
            Ok(v) => h.insert(header::ORIGIN, v),
            Err(_) => return false,
        };
        self.trusted.evaluate(&Method::GET, &h).is_allowed()
    }

    /// Scans one URL, as `operation` (its method and request headers) when
    /// given: probes then ask for what a page calling it sends, and a
    /// method that changes state is only ever preflighted, never sent.
    /// Never fails: a target that cannot be reached gets an `error`.
    pub async fn scan(&self, raw_url: &str, operation: Option<&Operation>) -> TargetReport {
        let mut report = TargetReport::new(raw_url, operation);
        let url = match url::Url::parse(raw_url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => u,
            _ => {
                report.error = Some(format!("`{raw_url}` is not an http(s) URL"));
                return report;
            }
        };
        let scheme = url.scheme().to_string();
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        if self.insecure && scheme == "https" {
            report.certificate_verified = Some(false);
        }
        let headers_asked = operation.map(|op| op.request_headers.join(","));
        let (actual_method, ask): (Option<Method>, Ask<'_>) = match operation {
            None => (Some(Method::GET), MADE_UP),
            Some(op) => {
                let acrh = headers_asked.as_deref().filter(|h| !h.is_empty());
                let actual = matches!(op.method.as_str(), "GET" | "HEAD")
                    .then(|| Method::from_bytes(op.method.as_bytes()).ok())
                    .flatten();
                if actual.is_none() {
                    report.notes.push(format!(
                        "{} changes state: only preflights were sent, never the {} itself",
                        op.method, op.method
                    ));
                }
                if op.needs_auth && !self.has_credentials() {
                    report.notes.push(
                        "the spec says it needs authentication; scanned without credentials                          (give them with --header)"
                            .into(),
                    );
                }
                if !op.placeholders.is_empty() {
                    report.notes.push(format!(
                        "no example in the spec for {}: filled with a placeholder",
                        op.placeholders.join(", ")
                    ));
                }
                (actual, (op.method.as_str(), acrh))
            }
        };
        // One baseline request tells a dead target apart from a refusing one.
        if let Err(e) = self
            .client
            .send(&Method::GET, &url, &self.extra_map())
            .await
        {
            report.error = Some(e.to_string());
            return report;
        }

        let probes: Vec<Probe> = probes::derive(&scheme, &host, self.trusted_list)
            .into_iter()
            .filter(|p| !self.is_trusted(&p.origin))
            .collect();
        let mut probed = Vec::with_capacity(probes.len() + 1);
        // An operation's preflights ask for what it really sends; one more,
        // from a trusted origin when there is one, asks for the made-up
        // method and header, for the echo check.
        let trusted_origin = self
            .trusted_list
            .iter()
            .find(|o| corsair::OriginRef::parse(o).is_ok())
            .cloned();
        let echo_probe = operation
            .filter(|_| trusted_origin.is_none())
            .and_then(|_| probes.first().cloned());
        for probe in probes {
            let actual = match &actual_method {
                Some(m) => self.send(m, &url, &probe.origin, None).await,
                None => None,
            };
            let preflight = self
                .send(&Method::OPTIONS, &url, &probe.origin, Some(ask))
                .await;
            probed.push(Probed {
                probe,
                actual,
                preflight,
                actual_skipped: actual_method.is_none(),
            });
        }
        if let Some(probe) = echo_probe {
            let preflight = self
                .send(&Method::OPTIONS, &url, &probe.origin, Some(MADE_UP))
                .await;
            probed.push(Probed {
                probe,
                actual: None,
                preflight,
                actual_skipped: true,
            });
        }
        let mut trusted_probed = Vec::new();
        for origin in self
            .trusted_list
            .iter()
            .filter(|o| corsair::OriginRef::parse(o).is_ok())
        {
            let actual = match &actual_method {
                Some(m) => self.send(m, &url, origin, None).await,
                None => None,
            };
            let preflight = self.send(&Method::OPTIONS, &url, origin, Some(ask)).await;
            trusted_probed.push((origin.clone(), actual, preflight));
        }
        if let (Some(_), Some(origin)) = (operation, &trusted_origin) {
            let preflight = self
                .send(&Method::OPTIONS, &url, origin, Some(MADE_UP))
                .await;
            trusted_probed.push((origin.clone(), None, preflight));
        }

        let registrable = psl::domain_str(&host).unwrap_or(&host).to_string();
        let pages = judge::pages_toml(self.trusted_list, &registrable);
        self.origin_findings(&probed, &pages, &registrable, &mut report.findings);
        self.header_findings(&probed, &trusted_probed, &pages, &mut report.findings);
        report
            .findings
            .sort_by(|a, b| b.severity.cmp(&a.severity).then(a.class.cmp(&b.class)));
        report
    }

    /// Whether `--header` gave credentials (a cookie, `Authorization`, or
    /// an API key header).
    fn has_credentials(&self) -> bool {
        self.extra.iter().any(|(n, _)| {
            *n == header::AUTHORIZATION
                || *n == header::COOKIE
                || n.as_str().contains("key")
                || n.as_str().contains("token")
        })
    }

    fn extra_map(&self) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (n, v) in self.extra {
            h.append(n.clone(), v.clone());
        }
        h
    }

    /// Findings of the origin classes: a probe origin that can read the response.
    fn origin_findings(
        &self,
        probed: &[Probed],
        pages: &str,
        registrable: &str,
        out: &mut Vec<Finding>,
    ) {
        let mut found: Vec<Finding> = Vec::new();
        for p in probed {
            let origin = &p.probe.origin;
            // The actual response first; else the preflight's (the only
            // exchange for a method the scan never sends).
            let from_actual = p.actual.as_ref().and_then(|(req, resp)| {
                let a = judge::access(&resp.headers, origin);
                // `*` is reported as wildcard-origin, not as this class.
                (a != Access::None && judge::reflects(&resp.headers, origin)).then_some((
                    a,
                    false,
                    ("GET", req, resp),
                ))
            });
            let from_preflight = || {
                p.preflight.as_ref().and_then(|(preq, presp)| {
                    let pa = judge::access(&presp.headers, origin);
                    ((200..300).contains(&presp.status)
                        && judge::reflects(&presp.headers, origin)
                        && pa != Access::None)
                        .then_some((pa, true, ("OPTIONS", preq, presp)))
                })
            };
            let (access, via_preflight, exchange) = match from_actual.or_else(from_preflight) {
                Some((a, v, e)) => (a, v, Some(e)),
                None => (Access::None, false, None),
            };
            let (Some(severity), Some((method, req, resp))) = (
                judge::origin_severity(p.probe.class, access, via_preflight && !p.actual_skipped),
                exchange,
            ) else {
                continue;
            };
            if let Some(existing) = found.iter_mut().find(|f| f.class == p.probe.class) {
                if severity > existing.severity {
                    existing.severity = severity;
                }
                existing.also.push(origin.clone());
                continue;
            }
            found.push(Finding {
                class: p.probe.class,
                severity,
                origin: origin.clone(),
                credentials: access == Access::Credentialed,
                why: judge::why(access, via_preflight),
                exploit: p.probe.class.exploit().to_string(),
                fix: judge::fix(p.probe.class, pages, access == Access::Credentialed),
                evidence: Evidence::new(method, req, resp.status, &resp.headers),
                also: Vec::new(),
            });
        }
        // One root cause, one finding: reflecting any origin explains every
        // other origin class, and a prefix match explains special characters.
        let fold = |found: &mut Vec<Finding>, into: Class, classes: &[Class]| {
            let Some(pos) = found.iter().position(|f| f.class == into) else {
                return;
            };
            let mut also = Vec::new();
            found.retain(|f| {
                if classes.contains(&f.class) {
                    also.push(f.origin.clone());
                    also.extend(f.also.iter().cloned());
                    false
                } else {
                    true
                }
            });
            let pos = found.iter().position(|f| f.class == into).unwrap_or(pos);
            if let Some(f) = found.get_mut(pos) {
                f.also.extend(also);
            }
        };
        let origin_classes: Vec<Class> = Class::ALL
            .into_iter()
            .filter(|c| {
                judge::origin_severity(*c, Access::Credentialed, false).is_some()
                    && *c != Class::ReflectAnyOrigin
            })
            .collect();
        fold(&mut found, Class::ReflectAnyOrigin, &origin_classes);
        fold(&mut found, Class::PostDomain, &[Class::SpecialCharBypass]);
        // A suffix match (`endsWith("example.com")`) also lets through the
        // dot-replaced probes that still end with the registrable domain.
        let explained_by_suffix = found.iter().any(|f| f.class == Class::PreDomain)
            && found
                .iter()
                .filter(|f| f.class == Class::UnescapedDot)
                .all(|f| {
                    std::iter::once(&f.origin)
                        .chain(f.also.iter())
                        .all(|o| o.ends_with(registrable))
                });
        if explained_by_suffix {
            fold(&mut found, Class::PreDomain, &[Class::UnescapedDot]);
        }
        out.extend(found);
    }

    /// Findings about the headers themselves: invalid ACAO, missing Vary,
    /// preflights that echo anything, and `*` on authenticated responses.
    fn header_findings(
        &self,
        probed: &[Probed],
        trusted: &[TrustedProbe],
        pages: &str,
        out: &mut Vec<Finding>,
    ) {
        let all = probed
            .iter()
            .map(|p| (p.probe.origin.as_str(), &p.actual, &p.preflight))
            .chain(trusted.iter().map(|(o, a, p)| (o.as_str(), a, p)));
        let (mut invalid, mut vary, mut echo, mut wildcard) = (None, None, None, None);
        let authenticated = self
            .extra
            .iter()
            .any(|(n, _)| *n == header::AUTHORIZATION || *n == header::COOKIE);
        for (origin, actual, preflight) in all {
            for (method, ex) in [("GET", actual), ("OPTIONS", preflight)] {
                let Some((req, resp)) = ex else { continue };
                // An echo of the request's own origin is the origin classes' business.
                if invalid.is_none() && !judge::reflects(&resp.headers, origin) {
                    if let Some(why) = judge::invalid_acao(&resp.headers) {
                        invalid = Some((
                            origin.to_string(),
                            why,
                            Evidence::new(method, req, resp.status, &resp.headers),
                        ));
                    }
                }
                if method == "GET"
                    && vary.is_none()
                    && judge::reflects(&resp.headers, origin)
                    && !judge::varies_on_origin(&resp.headers)
                {
                    vary = Some((
                        origin.to_string(),
                        Evidence::new(method, req, resp.status, &resp.headers),
                    ));
                }
                if method == "GET" && wildcard.is_none() {
                    let star = resp
                        .headers
                        .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
                        .is_some_and(|v| v == "*");
                    if star && (200..300).contains(&resp.status) {
                        let sets_cookies = resp.headers.contains_key(header::SET_COOKIE);
                        wildcard = Some((
                            origin.to_string(),
                            sets_cookies,
                            Evidence::new(method, req, resp.status, &resp.headers),
                        ));
                    }
                }
                if method == "OPTIONS"
                    && echo.is_none()
                    && judge::access(&resp.headers, origin) != Access::None
                {
                    let lists = |name: HeaderName, token: &str| {
                        resp.headers.get_all(name).iter().any(|v| {
                            v.as_bytes().split(|&b| b == b',').any(|t| {
                                String::from_utf8_lossy(t)
                                    .trim()
                                    .eq_ignore_ascii_case(token)
                            })
                        })
                    };
                    if lists(header::ACCESS_CONTROL_ALLOW_METHODS, PROBE_METHOD)
                        || lists(header::ACCESS_CONTROL_ALLOW_HEADERS, PROBE_HEADER)
                    {
                        echo = Some((
                            origin.to_string(),
                            Evidence::new(method, req, resp.status, &resp.headers),
                        ));
                    }
                }
            }
        }
        let mut push =
            |class: Class, severity: Severity, origin: String, why: String, evidence: Evidence| {
                out.push(Finding {
                    class,
                    severity,
                    credentials: evidence
                        .response_headers
                        .iter()
                        .any(|[n, v]| n == "access-control-allow-credentials" && v == "true"),
                    origin,
                    why,
                    exploit: class.exploit().to_string(),
                    fix: judge::fix(class, pages, false),
                    evidence,
                    also: Vec::new(),
                });
            };
        if let Some((o, why, e)) = invalid {
            push(Class::InvalidAcao, Severity::Low, o, why, e);
        }
        if let Some((o, e)) = vary {
            push(Class::MissingVary, Severity::Medium, o, "Access-Control-Allow-Origin names the request's origin, so the response differs per origin, but Vary does not list Origin.".into(), e);
        }
        if let Some((o, e)) = echo {
            push(Class::PreflightReflectsAnything, Severity::Low, o, format!("The preflight allowed the made-up method `{PROBE_METHOD}` or header `{PROBE_HEADER}`."), e);
        }
        if let Some((o, sets_cookies, e)) = wildcard {
            let (severity, why) = if authenticated {
                (Severity::Medium, "The request carried credentials given with --header and the response says `*`: anyone who can reach the resource without them can read it from any page.")
            } else if sets_cookies {
                (Severity::Medium, "The response says `*` and sets a cookie, so it belongs to a session: any page can read what it returns to anyone who can reach it.")
            } else {
                (Severity::Info, "The response says `*`: any page can read it. That is right for public data; nothing here shows this response is sensitive (scan with --header credentials to check an authenticated one).")
            };
            push(Class::WildcardOrigin, severity, o, why.into(), e);
        }
    }
}
