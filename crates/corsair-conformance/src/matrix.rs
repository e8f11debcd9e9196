//! The generated scenario matrix and the catalogue files.
//!
//! [`generate`] builds the browser-model matrix from a few axes (request
//! shapes, preflight answers, actual-response answers, exposure, redirects);
//! `scenarios/matrix.toml` is its output, committed so it can be read and
//! diffed (a unit test fails when it is stale; `CORSAIR_BLESS=1` rewrites
//! it). Hand-written scenarios live in `scenarios/handwritten.toml`.

use std::path::{Path, PathBuf};

use crate::scenario::{
    Catalogue, Credentials, HeaderPair, Redirect, RedirectTarget, RequestSpec, ResponseSpec,
    Scenario, Server,
};

/// The directory of the catalogue files.
pub fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

/// Reads `scenarios/matrix.toml` and `scenarios/handwritten.toml`, in that order.
pub fn load_catalogue() -> Result<Catalogue, String> {
    let mut all = Catalogue::default();
    for name in ["matrix.toml", "handwritten.toml"] {
        let path = scenarios_dir().join(name);
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let part = Catalogue::from_toml(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        all.scenario.extend(part.scenario);
    }
    all.check()?;
    Ok(all)
}

fn h(name: &str, value: &str) -> HeaderPair {
    (name.to_string(), value.to_string())
}

/// A request shape: how the script calls `fetch()`.
struct Shape {
    slug: &'static str,
    method: &'static str,
    headers: Vec<HeaderPair>,
    body: Option<&'static str>,
    /// Whether the generator expects no preflight (only used to avoid
    /// multiplying preflight answers that are never asked for; the
    /// observation decides, not this flag).
    simple: bool,
}

fn shapes() -> Vec<Shape> {
    let long = "a".repeat(129);
    let shape = |slug, method, headers: Vec<HeaderPair>, body, simple| Shape {
        slug,
        method,
        headers,
        body,
        simple,
    };
    vec![
        shape("get", "GET", vec![], None, true),
        shape("get-lower", "get", vec![], None, true),
        shape("head", "HEAD", vec![], None, true),
        shape(
            "post-text",
            "POST",
            vec![h("content-type", "text/plain")],
            Some("x"),
            true,
        ),
        shape(
            "post-form",
            "POST",
            vec![h("content-type", "application/x-www-form-urlencoded")],
            Some("a=b"),
            true,
        ),
        shape(
            "get-accept",
            "GET",
            vec![h("accept", "application/json")],
            None,
            true,
        ),
        shape(
            "post-json",
            "POST",
            vec![h("content-type", "application/json")],
            Some("{}"),
            false,
        ),
        shape(
            "post-ct-long",
            "POST",
            vec![h("content-type", &format!("text/plain; x={long}"))],
            Some("x"),
            false,
        ),
        shape("put", "PUT", vec![], Some("x"), false),
        shape("put-lower", "put", vec![], Some("x"), false),
        shape("patch", "PATCH", vec![], Some("x"), false),
        shape("patch-lower", "patch", vec![], Some("x"), false),
        shape("delete", "DELETE", vec![], None, false),
        shape("custom-method", "QUERY", vec![], Some("x"), false),
        shape("get-xcustom", "GET", vec![h("x-custom", "1")], None, false),
        shape(
            "get-two",
            "GET",
            vec![h("X-Zeta", "1"), h("x-alpha", "2")],
            None,
            false,
        ),
        shape(
            "get-auth",
            "GET",
            vec![h("authorization", "Bearer t")],
            None,
            false,
        ),
        shape(
            "get-accept-long",
            "GET",
            vec![h("accept", &long)],
            None,
            false,
        ),
        shape(
            "get-lang-bad",
            "GET",
            vec![h("content-language", "en@us")],
            None,
            false,
        ),
        shape(
            "get-range",
            "GET",
            vec![h("range", "bytes=0-10")],
            None,
            false,
        ),
        shape(
            "put-json-auth",
            "put",
            vec![
                h("content-type", "application/json"),
                h("Authorization", "Bearer t"),
            ],
            Some("{}"),
            false,
        ),
    ]
}

/// The method as browsers put it on the wire: the six standard methods are
/// uppercased (Fetch "normalize"), any other is kept as written.
pub fn wire_method(method: &str) -> String {
    corsair::names::normalize_method(method).into_owned()
}

/// The preflight answer that allows exactly this shape for the echoed origin.
fn good_preflight(shape: &Shape) -> Vec<HeaderPair> {
    let mut headers = vec![
        h("access-control-allow-origin", "{origin}"),
        h("access-control-allow-credentials", "true"),
        h("access-control-allow-methods", &wire_method(shape.method)),
    ];
    if !shape.headers.is_empty() {
        let names: Vec<&str> = shape.headers.iter().map(|(n, _)| n.as_str()).collect();
        headers.push(h("access-control-allow-headers", &names.join(", ")));
    }
    headers
}

fn without(headers: &[HeaderPair], name: &str) -> Vec<HeaderPair> {
    headers.iter().filter(|(n, _)| n != name).cloned().collect()
}

fn replaced(headers: &[HeaderPair], name: &str, value: &str) -> Vec<HeaderPair> {
    let mut out = without(headers, name);
    out.push(h(name, value));
    out
}

/// Every preflight answer of the matrix, by slug.
fn preflight_answers(shape: &Shape) -> Vec<(&'static str, ResponseSpec)> {
    let good = good_preflight(shape);
    let spec = |status: u16, headers: Vec<HeaderPair>| ResponseSpec { status, headers };
    let mut multi = good.clone();
    multi.push(h("access-control-allow-origin", "{origin}"));
    let mut redirect = good.clone();
    redirect.push(h("location", "{cross}/elsewhere"));
    vec![
        ("ok", spec(204, good.clone())),
        ("ok-200", spec(200, good.clone())),
        (
            "star",
            spec(
                204,
                vec![
                    h("access-control-allow-origin", "*"),
                    h("access-control-allow-methods", "*"),
                    h("access-control-allow-headers", "*"),
                ],
            ),
        ),
        (
            "acao-wrong",
            spec(
                204,
                replaced(&good, "access-control-allow-origin", "http://wrong.example"),
            ),
        ),
        (
            "acao-missing",
            spec(204, without(&good, "access-control-allow-origin")),
        ),
        ("acao-multiple", spec(204, multi)),
        ("status-403", spec(403, good.clone())),
        ("status-301", spec(301, redirect)),
        (
            "acam-missing",
            spec(204, without(&good, "access-control-allow-methods")),
        ),
        (
            "acam-lower",
            spec(
                204,
                replaced(
                    &good,
                    "access-control-allow-methods",
                    &wire_method(shape.method).to_ascii_lowercase(),
                ),
            ),
        ),
        (
            "acah-missing",
            spec(204, without(&good, "access-control-allow-headers")),
        ),
        (
            "acah-star",
            spec(204, replaced(&good, "access-control-allow-headers", "*")),
        ),
        (
            "acac-missing",
            spec(204, without(&good, "access-control-allow-credentials")),
        ),
        (
            "max-age-600",
            spec(204, replaced(&good, "access-control-max-age", "600")),
        ),
        (
            "max-age-negative",
            spec(204, replaced(&good, "access-control-max-age", "-1")),
        ),
    ]
}

fn good_actual() -> ResponseSpec {
    ResponseSpec {
        status: 200,
        headers: vec![
            h("access-control-allow-origin", "{origin}"),
            h("access-control-allow-credentials", "true"),
        ],
    }
}

fn request(target: Server, shape: &Shape, credentials: Credentials) -> RequestSpec {
    RequestSpec {
        target,
        method: shape.method.to_string(),
        headers: shape.headers.clone(),
        credentials,
        body: shape.body.map(str::to_string),
    }
}

const CREDENTIALS: [Credentials; 2] = [Credentials::Omit, Credentials::Include];

fn cred_slug(c: Credentials) -> &'static str {
    match c {
        Credentials::Omit => "omit",
        Credentials::SameOrigin => "same",
        Credentials::Include => "incl",
    }
}

/// Generates the whole matrix. Ids are `<part>-<shape>-<answer>-<credentials>`.
pub fn generate() -> Catalogue {
    let mut out = Vec::new();
    let shapes = shapes();

    // Part 1: request shapes × preflight answers × credentials, to `cross`.
    for shape in &shapes {
        for (answer, preflight) in preflight_answers(shape) {
            if shape.simple && !matches!(answer, "ok" | "acao-missing") {
                continue;
            }
            // `same-origin` only where it can differ from `omit` cross-origin:
            // answers whose wildcards and credentials flags depend on the mode.
            let modes: &[Credentials] = if matches!(answer, "star" | "acah-star" | "acac-missing") {
                &[
                    Credentials::Omit,
                    Credentials::SameOrigin,
                    Credentials::Include,
                ]
            } else {
                &CREDENTIALS
            };
            for &credentials in modes {
                out.push(Scenario {
                    id: format!("pf-{}-{answer}-{}", shape.slug, cred_slug(credentials)),
                    note: format!(
                        "fetch {} {:?} with credentials {}; the preflight answer is `{answer}`",
                        shape.method,
                        shape
                            .headers
                            .iter()
                            .map(|(n, _)| n.as_str())
                            .collect::<Vec<_>>(),
                        credentials.as_str()
                    ),
                    request: request(Server::Cross, shape, credentials),
                    preflight: Some(preflight.clone()),
                    redirects: vec![],
                    response: good_actual(),
                });
            }
        }
    }

    // Part 2: the actual response's ACAO × ACAC × credentials.
    let acaos: [(&str, Vec<&str>); 7] = [
        ("echo", vec!["{origin}"]),
        ("star", vec!["*"]),
        ("wrong", vec!["http://wrong.example"]),
        ("missing", vec![]),
        ("multiple", vec!["{origin}", "{origin}"]),
        ("null", vec!["null"]),
        ("slash", vec!["{origin}/"]),
    ];
    let acacs: [(&str, Option<&str>); 3] = [
        ("none", None),
        ("true", Some("true")),
        ("title", Some("True")),
    ];
    for shape in shapes.iter().filter(|s| matches!(s.slug, "get" | "put")) {
        for (acao_slug, acao) in &acaos {
            for (acac_slug, acac) in &acacs {
                for credentials in [
                    Credentials::Omit,
                    Credentials::SameOrigin,
                    Credentials::Include,
                ] {
                    let mut headers: Vec<HeaderPair> = acao
                        .iter()
                        .map(|v| h("access-control-allow-origin", v))
                        .collect();
                    if let Some(v) = acac {
                        headers.push(h("access-control-allow-credentials", v));
                    }
                    out.push(Scenario {
                        id: format!(
                            "act-{}-acao-{acao_slug}-acac-{}-{}",
                            shape.slug,
                            acac_slug,
                            cred_slug(credentials)
                        ),
                        note: format!(
                            "{} with credentials {}; the response has ACAO {acao:?} and ACAC {acac:?}",
                            shape.method,
                            credentials.as_str()
                        ),
                        request: request(Server::Cross, shape, credentials),
                        preflight: Some(ResponseSpec { status: 204, headers: good_preflight(shape) }),
                        redirects: vec![],
                        response: ResponseSpec { status: 200, headers },
                    });
                }
            }
        }
    }

    // Part 3: exposure. The response carries these headers; ACEH varies.
    let exposable = [
        h("x-custom", "1"),
        h("x-secret", "2"),
        h("content-language", "en"),
        h("content-type", "text/plain"),
        h("set-cookie", "a=b"),
        h("expires", "0"),
    ];
    let acehs: [(&str, Option<&str>); 8] = [
        ("none", None),
        ("x-custom", Some("x-custom")),
        ("upper", Some("X-Custom")),
        ("star", Some("*")),
        ("two", Some("x-custom, x-secret")),
        ("star-and-name", Some("*, x-secret")),
        ("set-cookie", Some("set-cookie")),
        ("empty-items", Some("x-custom,,x-secret")),
    ];
    let get = &shapes[0];
    for (mode, credentials, acao) in [
        ("echo-incl", Credentials::Include, true),
        ("echo-omit", Credentials::Omit, true),
        ("star-omit", Credentials::Omit, false),
    ] {
        for (aceh_slug, aceh) in &acehs {
            let mut headers = if acao {
                good_actual().headers
            } else {
                vec![h("access-control-allow-origin", "*")]
            };
            headers.extend(exposable.iter().cloned());
            if let Some(v) = aceh {
                headers.push(h("access-control-expose-headers", v));
            }
            out.push(Scenario {
                id: format!("exp-{mode}-{aceh_slug}"),
                note: format!("which headers the script reads with ACEH {aceh:?} ({mode})"),
                request: request(Server::Cross, get, credentials),
                preflight: None,
                redirects: vec![],
                response: ResponseSpec {
                    status: 200,
                    headers,
                },
            });
        }
    }

    // Part 4: one redirect of the actual request.
    let redirect_headers = vec![
        h("access-control-allow-origin", "{origin}"),
        h("access-control-allow-credentials", "true"),
    ];
    for start in [Server::Cross, Server::Page] {
        for shape in shapes.iter().filter(|s| matches!(s.slug, "get" | "put")) {
            for credentials in CREDENTIALS {
                for status in [301, 302, 303, 307, 308] {
                    for to in [
                        RedirectTarget::Cross,
                        RedirectTarget::Page,
                        RedirectTarget::CrossHost,
                        RedirectTarget::CrossUserinfo,
                    ] {
                        out.push(Scenario {
                            id: format!(
                                "rd-{}-{}-{status}-to-{}-{}",
                                start.label(),
                                shape.slug,
                                target_slug(to),
                                cred_slug(credentials)
                            ),
                            note: format!(
                                "{} from {} redirected ({status}) to {}; every answer allows the echoed origin",
                                shape.method,
                                start.label(),
                                target_slug(to)
                            ),
                            request: request(start, shape, credentials),
                            preflight: Some(ResponseSpec { status: 204, headers: good_preflight(shape) }),
                            redirects: vec![Redirect { status, to, headers: redirect_headers.clone() }],
                            response: good_actual(),
                        });
                    }
                }
            }
        }
    }
    // Redirect responses without CORS headers, and two-hop chains.
    for status in [301, 302, 303, 307, 308] {
        for to in [RedirectTarget::Cross, RedirectTarget::CrossHost] {
            out.push(Scenario {
                id: format!("rd-bare-{status}-to-{}", target_slug(to)),
                note: "a cross-origin redirect response without ACAO".into(),
                request: request(Server::Cross, get, Credentials::Omit),
                preflight: None,
                redirects: vec![Redirect {
                    status,
                    to,
                    headers: vec![],
                }],
                response: good_actual(),
            });
        }
    }
    for credentials in CREDENTIALS {
        for (slug, acao) in [
            ("echo", "{origin}"),
            ("page", "{page}"),
            ("star", "*"),
            ("null", "null"),
        ] {
            out.push(Scenario {
                id: format!("rd-chain-final-{slug}-{}", cred_slug(credentials)),
                note: format!("cross → cross-host → page; the final answer has ACAO {acao}"),
                request: request(Server::Cross, get, credentials),
                preflight: None,
                redirects: vec![
                    Redirect {
                        status: 302,
                        to: RedirectTarget::CrossHost,
                        headers: redirect_headers.clone(),
                    },
                    Redirect {
                        status: 307,
                        to: RedirectTarget::Page,
                        headers: redirect_headers.clone(),
                    },
                ],
                response: ResponseSpec {
                    status: 200,
                    headers: vec![
                        h("access-control-allow-origin", acao),
                        h("access-control-allow-credentials", "true"),
                    ],
                },
            });
        }
    }
    Catalogue { scenario: out }
}

fn target_slug(to: RedirectTarget) -> &'static str {
    match to {
        RedirectTarget::Page => "page",
        RedirectTarget::Cross => "cross",
        RedirectTarget::CrossHost => "cross-host",
        RedirectTarget::CrossUserinfo => "userinfo",
    }
}

/// The header of `scenarios/matrix.toml`.
pub const MATRIX_HEADER: &str =
    "# Generated by corsair_conformance::matrix::generate; do not edit.\n\
# Regenerate: CORSAIR_BLESS=1 cargo test -p corsair-conformance --lib matrix\n\
# Format: see crates/corsair-conformance/README.md.\n\n";

/// The text of `scenarios/matrix.toml`.
pub fn matrix_toml() -> Result<String, String> {
    Ok(format!("{MATRIX_HEADER}{}", generate().to_toml()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_matrix_is_large_unique_and_valid() {
        let m = generate();
        m.check().unwrap();
        assert!(m.scenario.len() >= 300, "{}", m.scenario.len());
        for s in &m.scenario {
            for (n, v) in s.request.headers.iter().chain(s.response.headers.iter()) {
                assert!(
                    http::HeaderName::from_bytes(n.as_bytes()).is_ok(),
                    "{}: {n}",
                    s.id
                );
                assert!(http::HeaderValue::from_str(v).is_ok(), "{}: {v}", s.id);
            }
        }
    }

    #[test]
    fn the_committed_matrix_is_fresh() {
        let path = scenarios_dir().join("matrix.toml");
        let text = matrix_toml().unwrap();
        if std::env::var("CORSAIR_BLESS").is_ok_and(|v| v == "1") {
            std::fs::write(&path, &text).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == text,
            "{} is stale: run CORSAIR_BLESS=1 cargo test -p corsair-conformance --lib matrix",
            path.display()
        );
        let parsed = Catalogue::from_toml(&committed).unwrap();
        assert_eq!(parsed, generate());
    }

    #[test]
    fn the_whole_catalogue_loads() {
        let all = load_catalogue().unwrap();
        assert!(all.scenario.len() > generate().scenario.len());
    }

    #[test]
    fn every_observation_snapshot_covers_the_catalogue() {
        if std::env::var("CORSAIR_BLESS").is_ok_and(|v| v == "1") {
            return; // the browser tests are rewriting them
        }
        let ids: Vec<String> = load_catalogue()
            .unwrap()
            .scenario
            .into_iter()
            .map(|s| s.id)
            .collect();
        for engine in crate::driver::Engine::ALL {
            let file = engine.snapshot();
            let text = std::fs::read_to_string(scenarios_dir().join(file)).unwrap();
            let recorded = crate::observation::Recorded::from_jsonl(&text).unwrap();
            assert_eq!(recorded.to_jsonl(), text, "{file}");
            let recorded_ids: Vec<String> = recorded
                .observations
                .into_iter()
                .map(|(id, _)| id)
                .collect();
            assert!(
                ids == recorded_ids,
                "scenarios/{file} is stale: run CORSAIR_BLESS=1 cargo test -p corsair-conformance"
            );
        }
    }

    #[test]
    fn wire_methods_follow_fetch_normalization() {
        assert_eq!(wire_method("put"), "PUT");
        assert_eq!(wire_method("patch"), "patch");
        assert_eq!(wire_method("Delete"), "DELETE");
        assert_eq!(wire_method("QUERY"), "QUERY");
    }
}
