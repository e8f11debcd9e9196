//! What each target can express: the policy features, and for each target
//! whether it enforces a feature exactly, only approximately, or not at all.
//! docs/export.md is this table in prose.

use std::fmt;

use corsair::{Portable, PortableNames, PortableOrigins, PortablePort};

use crate::{Route, Target};

/// A part of a policy that a target may not express.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Feature {
    /// `allow_origins = ["*"]`: `Access-Control-Allow-Origin: *`.
    AnyOrigin,
    /// Subdomain patterns (`https://*.example.com`).
    SubdomainPatterns,
    /// Port wildcards (`http://localhost:*`).
    PortWildcards,
    /// `allow_origin_regex`.
    RegexOrigins,
    /// A regex the target's engine would read differently.
    UnportableRegex,
    /// A preflight asking for a method or header the policy does not allow
    /// is refused with 403 and no `Access-Control-*` header; so is one from
    /// an origin not allowed.
    RefusedPreflights,
    /// `allow_methods = ["*"]`: any method, echoed (works with credentials).
    AnyMethod,
    /// `allow_headers = ["*"]`: any header, echoed (covers `Authorization`,
    /// works with credentials).
    AnyHeader,
    /// No credentials: no `Access-Control-Allow-Credentials` on answers.
    NoCredentials,
    /// `allow_private_network = true`.
    PrivateNetwork,
    /// A preflight status other than 204.
    PreflightStatus,
    /// `Vary: Origin` added to the upstream's own `Vary`, and the upstream's
    /// own `Access-Control-*` headers replaced.
    UpstreamHeaders,
    /// A route limited to a path prefix.
    PathRoutes,
}

impl Feature {
    /// What the feature is, in a few words.
    pub fn describe(self) -> &'static str {
        match self {
            Feature::AnyOrigin => "any origin (`*`)",
            Feature::SubdomainPatterns => "subdomain patterns (`https://*.example.com`)",
            Feature::PortWildcards => "port wildcards (`http://localhost:*`)",
            Feature::RegexOrigins => "origin regexes (allow_origin_regex)",
            Feature::UnportableRegex => "a regex only Rust's regex engine reads as written",
            Feature::RefusedPreflights => {
                "refused preflights (403 for an origin, method or header not allowed)"
            }
            Feature::AnyMethod => "any method (`allow_methods = [\"*\"]`, echoed)",
            Feature::AnyHeader => "any request header (`allow_headers = [\"*\"]`, echoed)",
            Feature::NoCredentials => "no credentials for listed origins",
            Feature::PrivateNetwork => "Private Network Access preflights",
            Feature::PreflightStatus => "a preflight status other than 204",
            Feature::UpstreamHeaders => {
                "Vary merged with the upstream's, the upstream's Access-Control-* replaced"
            }
            Feature::PathRoutes => "routes by path prefix",
        }
    }
}

/// How a target handles a feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Support {
    /// Exactly as corsair.
    Exact,
    /// Differently, never granting more than the policy (the browser's
    /// verdict stays the same, or is stricter); exported with
    /// `--approximate`.
    Approximate,
    /// Not at all, or granting more than the policy: never exported.
    Never,
}

/// One difference between a policy and what a target would do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gap {
    /// The route.
    pub route: String,
    /// The feature.
    pub feature: Feature,
    /// Approximate or never.
    pub support: Support,
    /// What the target would do instead.
    pub detail: String,
}

impl fmt::Display for Gap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.support {
            Support::Never => "cannot",
            _ => "approximates",
        };
        write!(
            f,
            "{}: {kind} {}: {}",
            self.route,
            self.feature.describe(),
            self.detail
        )
    }
}

/// The features `portable` (of `route`) uses.
pub fn used(route: &Route, portable: &Portable) -> Vec<Feature> {
    let mut out = Vec::new();
    match &portable.origins {
        PortableOrigins::Any => out.push(Feature::AnyOrigin),
        PortableOrigins::List {
            patterns,
            regexes,
            regex,
            ..
        } => {
            if patterns.iter().any(|p| p.subdomains) {
                out.push(Feature::SubdomainPatterns);
            }
            if patterns.iter().any(|p| p.port == PortablePort::Any) {
                out.push(Feature::PortWildcards);
            }
            if !regexes.is_empty() {
                out.push(Feature::RegexOrigins);
            }
            if regex.is_err() {
                out.push(Feature::UnportableRegex);
            }
            if !portable.credentials {
                out.push(Feature::NoCredentials);
            }
        }
    }
    out.push(Feature::RefusedPreflights);
    if portable.methods == PortableNames::Any {
        out.push(Feature::AnyMethod);
    }
    if portable.headers == PortableNames::Any {
        out.push(Feature::AnyHeader);
    }
    if portable.private_network {
        out.push(Feature::PrivateNetwork);
    }
    if portable.preflight_status != 204 {
        out.push(Feature::PreflightStatus);
    }
    out.push(Feature::UpstreamHeaders);
    if route.path_prefix.is_some() {
        out.push(Feature::PathRoutes);
    }
    out
}

/// How `target` handles `feature`, and what it does instead when not
/// exactly.
pub fn support(target: Target, feature: Feature) -> (Support, &'static str) {
    use Feature as F;
    use Support::{Approximate as A, Exact as E, Never as N};
    use Target as T;
    if target.is_proxy() {
        // The four proxies run corsair's own decision as config: the
        // allowlist as one regex, every check as a condition.
        return match feature {
            F::UnportableRegex => (
                N,
                "the regex must be rewritten in the syntax PCRE and RE2 share",
            ),
            _ => (E, ""),
        };
    }
    let answers_all = "answers every preflight itself with its allow lists, so a refused request \
                       gets a 200 or 204 (the browser still refuses it) instead of 403";
    match (target, feature) {
        (_, F::UnportableRegex) => (
            N,
            "the regex must be rewritten in the syntax PCRE and RE2 share",
        ),
        (T::S3 | T::ApiGateway | T::GatewayApi, F::RegexOrigins) => {
            (N, "takes no regular expressions")
        }
        (T::ApiGateway, F::SubdomainPatterns) => (N, "takes only exact origins or `*`"),
        (T::S3 | T::ApiGateway | T::GatewayApi, F::PortWildcards) => (
            N,
            "has no port wildcard; its `*` would also match other hosts",
        ),
        (T::S3, F::NoCredentials) => (
            N,
            "always answers `Access-Control-Allow-Credentials: true` to a listed origin, \
             granting credentials the policy refuses",
        ),
        (T::S3, F::AnyMethod) => (N, "allows only GET, PUT, POST, DELETE and HEAD"),
        (T::S3, F::RefusedPreflights) => (
            A,
            "refuses with 403 and an XML error body, not an empty one",
        ),
        (_, F::RefusedPreflights) => (A, answers_all),
        (T::Envoy | T::Kong | T::GatewayApi | T::ApiGateway | T::Traefik, F::AnyMethod) => (
            A,
            "answers a literal `*`, which browsers read as a wildcard only without credentials",
        ),
        // S3 echoes the requested headers for `AllowedHeaders: ["*"]`.
        (T::S3, F::AnyHeader) => (E, ""),
        (_, F::AnyHeader) => (
            A,
            "answers a literal `*`, which browsers read as a wildcard only without credentials \
             and never for Authorization in the Fetch standard",
        ),
        (T::Envoy, F::AnyOrigin) => (A, "echoes the request's origin instead of answering `*`"),
        (T::Envoy | T::Kong, F::PrivateNetwork) => (E, ""),
        (_, F::PrivateNetwork) => (N, "cannot answer Private Network Access preflights"),
        (_, F::PreflightStatus) => (A, "answers preflights with its own status"),
        (_, F::UpstreamHeaders) => (
            A,
            "adds its headers as it sees fit: the upstream's own Access-Control-* and Vary \
             may reach the browser",
        ),
        (T::S3 | T::ApiGateway, F::PathRoutes) => (
            N,
            "one CORS configuration per bucket or API: export each route on its own",
        ),
        _ => (E, ""),
    }
}

/// Every gap between `route`'s policy and `target`.
pub fn gaps(target: Target, route: &Route, portable: &Portable) -> Vec<Gap> {
    used(route, portable)
        .into_iter()
        .filter_map(|feature| {
            let (support, detail) = support(target, feature);
            (support != Support::Exact).then(|| Gap {
                route: route.name.clone(),
                feature,
                support,
                detail: match (&portable.origins, feature) {
                    (
                        PortableOrigins::List {
                            regex: Err(why), ..
                        },
                        Feature::UnportableRegex,
                    ) => {
                        format!("{why}; {detail}")
                    }
                    _ => detail.to_string(),
                },
            })
        })
        .collect()
}
