//! Scanning one target: send every probe, judge every response.

use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::Method;
use serde::Serialize;

use super::class::{Class, Severity};
use super::judge::{self, Access, Evidence, Finding};
use super::limiter::RateLimiter;
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
    /// Findings, most severe first.
    pub findings: Vec<Finding>,
    /// Why the target could not be scanned, if it could not.
    pub error: Option<String>,
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
}

/// A request sent and its response.
type Sent = Option<(HeaderMap, Response)>;
/// A trusted origin with its actual and preflight exchanges.
type TrustedProbe = (String, Sent, Sent);

struct Probed {
    probe: Probe,
    actual: Option<(HeaderMap, Response)>,
    preflight: Option<(HeaderMap, Response)>,
}

impl Scanner<'_> {
    async fn send(
        &self,
        method: &Method,
        url: &url::Url,
        origin: &str,
        acr: bool,
    ) -> Option<(HeaderMap, Response)> {
        let mut headers = HeaderMap::new();
        for (n, v) in self.extra {
            headers.append(n.clone(), v.clone());
        }
        headers.insert(header::ORIGIN, HeaderValue::from_str(origin).ok()?);
        if acr {
            headers.insert(
                header::ACCESS_CONTROL_REQUEST_METHOD,
                HeaderValue::from_static(PROBE_METHOD),
            );
            headers.insert(
                header::ACCESS_CONTROL_REQUEST_HEADERS,
                HeaderValue::from_static(PROBE_HEADER),
            );
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

    /// Scans one URL. Never fails: a target that cannot be reached gets an `error`.
    pub async fn scan(&self, raw_url: &str) -> TargetReport {
        let mut report = TargetReport {
            url: raw_url.to_string(),
            findings: Vec::new(),
            error: None,
        };
        let url = match url::Url::parse(raw_url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => u,
            _ => {
                report.error = Some(format!("`{raw_url}` is not an http(s) URL"));
                return report;
            }
        };
        let scheme = url.scheme().to_string();
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
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
        let mut probed = Vec::with_capacity(probes.len());
        for probe in probes {
            let actual = self.send(&Method::GET, &url, &probe.origin, false).await;
            let preflight = self.send(&Method::OPTIONS, &url, &probe.origin, true).await;
            probed.push(Probed {
                probe,
                actual,
                preflight,
            });
        }
        let mut trusted_probed = Vec::new();
        for origin in self
            .trusted_list
            .iter()
            .filter(|o| corsair::OriginRef::parse(o).is_ok())
        {
            let actual = self.send(&Method::GET, &url, origin, false).await;
            let preflight = self.send(&Method::OPTIONS, &url, origin, true).await;
            trusted_probed.push((origin.clone(), actual, preflight));
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
            let (access, via_preflight, exchange) = match (&p.actual, &p.preflight) {
                (Some((req, resp)), pre) => {
                    let a = judge::access(&resp.headers, origin);
                    // `*` is reported as wildcard-origin, not as this class.
                    let a = if judge::reflects(&resp.headers, origin) {
                        a
                    } else {
                        Access::None
                    };
                    if a != Access::None {
                        (a, false, Some(("GET", req, resp)))
                    } else if let Some((preq, presp)) = pre {
                        let pa = judge::access(&presp.headers, origin);
                        let ok_status = (200..300).contains(&presp.status);
                        if ok_status
                            && judge::reflects(&presp.headers, origin)
                            && pa != Access::None
                        {
                            (pa, true, Some(("OPTIONS", preq, presp)))
                        } else {
                            (Access::None, false, None)
                        }
                    } else {
                        (Access::None, false, None)
                    }
                }
                _ => (Access::None, false, None),
            };
            let (Some(severity), Some((method, req, resp))) = (
                judge::origin_severity(p.probe.class, access, via_preflight),
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
                if method == "GET" && wildcard.is_none() && authenticated {
                    let star = resp
                        .headers
                        .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
                        .is_some_and(|v| v == "*");
                    if star && (200..300).contains(&resp.status) {
                        wildcard = Some((
                            origin.to_string(),
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
        if let Some((o, e)) = wildcard {
            push(Class::WildcardOrigin, Severity::Medium, o, "The request carried credentials given with --header and the response says `*`: anyone who can reach the resource without them can read it from any page.".into(), e);
        }
    }
}
