//! Checks that hold in any browser, whatever the model predicts: they
//! guard the harness and Chromium's basics independently of the model.
//! A violated invariant fails the suite just like a disagreement.

use crate::matrix::wire_method;
use crate::observation::Observation;
use crate::scenario::{Credentials, Scenario, Server};

fn values<'a>(headers: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
        .collect()
}

fn is_ok_status(status: u16) -> bool {
    (200..300).contains(&status)
}

/// Every invariant the observation breaks, as readable lines.
pub fn violations(s: &Scenario, o: &Observation, logs_console: bool) -> Vec<String> {
    let mut out = Vec::new();
    let mut check = |ok: bool, what: &str| {
        if !ok {
            out.push(format!("  invariant broken: {what}"));
        }
    };
    let cross_start = s.request.target != Server::Page;
    let method = wire_method(&s.request.method);
    let safelisted_method = matches!(method.as_str(), "GET" | "HEAD" | "POST");
    let credentials = s.request.credentials;

    check(
        o.allowed == o.status.is_some(),
        "a status is visible exactly when fetch resolves",
    );

    // The servers saw the request (unless blocked before any hop was sent).
    check(
        !o.allowed || o.actual_requests().next().is_some(),
        "an allowed fetch reached a server",
    );

    if !cross_start && s.redirects.is_empty() {
        check(
            o.allowed,
            "a same-origin request without redirects is allowed",
        );
        check(
            o.preflight().is_none(),
            "a same-origin request is never preflighted",
        );
        check(
            o.response_type.as_deref().is_none_or(|t| t == "basic"),
            "a same-origin response is `basic`",
        );
    }

    if safelisted_method && s.request.headers.is_empty() {
        check(
            o.preflight().is_none(),
            "a safelisted method without headers is never preflighted",
        );
    }

    if cross_start && !safelisted_method {
        let first = o.requests.first();
        check(
            first.is_some_and(|r| r.preflight),
            "a cross-origin request with a non-safelisted method is preflighted first",
        );
    }

    if let Some(p) = o.preflight() {
        check(
            p.acrm.as_deref() == Some(method.as_str()),
            &format!(
                "the preflight asks for the normalized method {method} (got {:?})",
                p.acrm
            ),
        );
        check(!p.cookie, "a preflight never carries cookies");
        if let Some(acrh) = &p.acrh {
            let names: Vec<&str> = acrh.split(',').collect();
            let mut sorted = names.clone();
            sorted.sort_unstable();
            sorted.dedup();
            check(
                names == sorted && acrh == &acrh.to_ascii_lowercase(),
                &format!("ACRH is sorted, lowercase, without spaces (got {acrh})"),
            );
            check(
                names.iter().all(|n| {
                    s.request
                        .headers
                        .iter()
                        .any(|(rn, _)| rn.eq_ignore_ascii_case(n))
                }),
                "ACRH only names headers the script set",
            );
        }
        if let Some(answer) = &s.preflight {
            let acao = values(&answer.headers, "access-control-allow-origin");
            if !is_ok_status(answer.status) || acao.is_empty() {
                check(
                    !o.allowed,
                    "a preflight answer without ok status or ACAO blocks the request",
                );
                check(
                    o.actual_requests().next().is_none(),
                    "after a failed preflight the actual request is not sent",
                );
            }
        }
    }
    if cross_start && o.preflight().is_some() && s.preflight.is_none() {
        check(!o.allowed, "a preflight answered 404 blocks the request");
    }

    for r in &o.requests {
        if credentials == Credentials::Omit {
            check(!r.cookie, "credentials `omit` never sends cookies");
        }
        if credentials == Credentials::SameOrigin && r.server != Server::Page {
            check(
                !r.cookie,
                "credentials `same-origin` sends no cookies cross-origin",
            );
        }
    }

    // The last answer the script could see: if allowed cross-origin, it
    // must carry exactly one ACAO that matches the Origin sent (or `*`
    // without credentials) and, with credentials, `ACAC: true`.
    let tainted = cross_start || o.actual_requests().any(|r| r.server != Server::Page);
    if o.allowed && tainted && o.response_type.as_deref() == Some("cors") {
        let last = o.actual_requests().last();
        let acao = values(&s.response.headers, "access-control-allow-origin");
        let origin = last.and_then(|r| r.origin.clone());
        let expanded: Vec<String> = acao
            .iter()
            .map(|v| match origin.as_deref() {
                Some(o) => v.trim().replace("{origin}", o),
                None => v.trim().to_string(),
            })
            .collect();
        let star_ok = expanded == ["*"] && credentials != Credentials::Include;
        let exact_ok = expanded.len() == 1 && Some(expanded[0].as_str()) == origin.as_deref();
        check(
            star_ok || exact_ok,
            &format!(
                "an allowed CORS response has one matching ACAO (sent {acao:?}, origin {origin:?})"
            ),
        );
        if credentials == Credentials::Include {
            check(
                values(&s.response.headers, "access-control-allow-credentials") == ["true"],
                "an allowed credentialed CORS response has `ACAC: true`",
            );
        }
        // Exposure: only safelisted names, named ones, or all with `*`.
        let aceh: Vec<String> = values(&s.response.headers, "access-control-expose-headers")
            .iter()
            .flat_map(|v| v.split(','))
            .map(|n| n.trim().to_ascii_lowercase())
            .collect();
        let star = aceh.iter().any(|n| n == "*") && credentials != Credentials::Include;
        for name in &o.readable_headers {
            check(name != "set-cookie", "`set-cookie` is never readable");
            check(
                star || corsair::names::is_cors_safelisted_response_header_name(name)
                    || aceh.contains(name),
                &format!("readable header `{name}` is safelisted or exposed"),
            );
        }
    }

    if cross_start && !o.allowed && logs_console {
        check(
            o.cors_error().is_some() || !o.console.is_empty(),
            "a blocked cross-origin fetch logs a console error",
        );
    }
    if o.allowed {
        check(
            o.cors_error().is_none(),
            "an allowed fetch logs no CORS error",
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observation::SeenRequest;
    use crate::scenario::{RequestSpec, ResponseSpec};

    fn scenario(method: &str, acao: Option<&str>) -> Scenario {
        Scenario {
            id: "t".into(),
            note: String::new(),
            request: RequestSpec {
                target: Server::Cross,
                method: method.into(),
                headers: vec![],
                credentials: Credentials::Omit,
                body: None,
            },
            preflight: None,
            redirects: vec![],
            response: ResponseSpec {
                status: 200,
                headers: acao
                    .map(|v| vec![("access-control-allow-origin".into(), v.into())])
                    .unwrap_or_default(),
            },
        }
    }

    fn request(method: &str, preflight: bool, acrm: Option<&str>) -> SeenRequest {
        SeenRequest {
            server: Server::Cross,
            hop: 0,
            method: method.into(),
            preflight,
            origin: Some("{page}".into()),
            acrm: acrm.map(str::to_string),
            acrh: None,
            cookie: false,
        }
    }

    fn observation(allowed: bool, requests: Vec<SeenRequest>) -> Observation {
        Observation {
            allowed,
            status: allowed.then_some(200),
            response_type: allowed.then(|| "cors".to_string()),
            redirected: allowed.then_some(false),
            readable_headers: vec![],
            requests,
            console: if allowed {
                vec![]
            } else {
                vec!["blocked by CORS policy".into()]
            },
        }
    }

    #[test]
    fn a_consistent_observation_passes() {
        let s = scenario("GET", Some("{origin}"));
        assert!(violations(
            &s,
            &observation(true, vec![request("GET", false, None)]),
            true
        )
        .is_empty());
        let s = scenario("GET", None);
        assert!(violations(
            &s,
            &observation(false, vec![request("GET", false, None)]),
            true
        )
        .is_empty());
    }

    #[test]
    fn allowing_what_the_server_never_allowed_is_caught() {
        for acao in [None, Some("http://wrong.example"), Some("{origin}/")] {
            let s = scenario("GET", acao);
            let v = violations(
                &s,
                &observation(true, vec![request("GET", false, None)]),
                true,
            );
            assert!(
                v.iter().any(|l| l.contains("one matching ACAO")),
                "{acao:?}: {v:?}"
            );
        }
    }

    #[test]
    fn preflight_mistakes_are_caught() {
        // A simple GET must not be preflighted.
        let s = scenario("GET", Some("*"));
        let o = observation(
            true,
            vec![
                request("OPTIONS", true, Some("GET")),
                request("GET", false, None),
            ],
        );
        assert!(!violations(&s, &o, true).is_empty());
        // A PUT must be, and with the normalized method.
        let s = scenario("put", Some("*"));
        let o = observation(true, vec![request("PUT", false, None)]);
        assert!(!violations(&s, &o, true).is_empty());
        let o = observation(
            true,
            vec![
                request("OPTIONS", true, Some("put")),
                request("PUT", false, None),
            ],
        );
        assert!(violations(&s, &o, true)
            .iter()
            .any(|l| l.contains("normalized method")));
    }
}
