//! HAProxy (2.2 or later): ACLs on whole header lines (`req.fhdr`, never
//! split at commas), preflights answered by `http-request return`, the
//! route and the granted origin kept in transaction variables for the
//! `http-response` rules.

use corsair::{CorsHeaders, Portable, PortableNames, PortableOrigins};

use crate::render::{
    approximations, comment, enclose, headers_regex, listen_addr, method_regex, upstream,
};
use crate::{ExportError, Gap, Options, Prepared};

/// A single-quoted argument: HAProxy does no escape processing inside.
fn quote(text: &str) -> Result<String, ExportError> {
    enclose(text, &['\''], "'", "'", "a HAProxy argument")
}

/// A double-quoted log-format argument (`%[...]` expands).
fn format_arg(text: &str) -> Result<String, ExportError> {
    enclose(text, &['"', '\\'], "\"", "\"", "a HAProxy header value")
}

/// A preflight: `OPTIONS` with `Origin` and `Access-Control-Request-Method`.
const PREFLIGHT: &str = "corsair_options corsair_origin corsair_acrm";

/// The ACLs every route shares.
const SHARED_ACLS: &str = "    acl corsair_options method OPTIONS
    acl corsair_origin req.hdr_cnt(origin) gt 0
    acl corsair_acrm req.hdr_cnt(access-control-request-method) gt 0
    acl corsair_acrh req.hdr_cnt(access-control-request-headers) gt 0
    acl corsair_pna req.fhdr(access-control-request-private-network) -m reg -i '^true$'
";

fn path_acls(r: &Prepared<'_>) -> Result<String, ExportError> {
    let id = &r.id;
    Ok(
        match r
            .route
            .path_prefix
            .as_deref()
            .map(|p| p.trim_end_matches('/'))
        {
            None | Some("") => format!("    acl {id}_path always_true\n"),
            Some(p) => format!(
                "    acl {id}_path path {}\n    acl {id}_path path_beg {}\n",
                quote(p)?,
                quote(&format!("{p}/"))?
            ),
        },
    )
}

fn route_acls(r: &Prepared<'_>) -> Result<String, ExportError> {
    let p: &Portable = &r.portable;
    let id = &r.id;
    let mut out = comment(
        "    #",
        &format!(
            "{}: whether each part of a CORS request is allowed.",
            r.route.name
        ),
    );
    match &p.origins {
        PortableOrigins::Any => {
            out.push_str(&format!("    acl {id}_origin req.hdr_cnt(origin) gt 0\n"))
        }
        PortableOrigins::List { regex, .. } => {
            let regex = regex.clone().map_err(ExportError::Unusable)?;
            out.push_str(&format!(
                "    acl {id}_origin req.fhdr(origin) -m reg {}\n",
                quote(&regex)?
            ));
        }
    }
    out.push_str(&format!(
        "    acl {id}_method req.fhdr(access-control-request-method) -m reg {}\n",
        quote(&method_regex(p))?
    ));
    out.push_str(&format!(
        "    acl {id}_headers req.fhdr(access-control-request-headers) -m reg -i {}\n",
        quote(&headers_regex(p))?
    ));
    out.push_str(&format!(
        "    acl {id}_headers_long req.fhdr(access-control-request-headers) -m len gt {}\n",
        p.request_headers_max_len
    ));
    out.push_str(&format!(
        "    acl {id}_route var(txn.corsair_route) -m str {id}\n"
    ));
    Ok(out)
}

fn preflight_rules(r: &Prepared<'_>) -> Result<String, ExportError> {
    let p: &Portable = &r.portable;
    let id = &r.id;
    let base = format!("{id}_route {PREFLIGHT} {id}_origin {id}_method");
    let acao = match (&p.origins, p.credentials) {
        (PortableOrigins::Any, false) => "*",
        _ => "%[req.fhdr(origin)]",
    };
    let mut out = String::new();
    let mut pna_variants = vec![("!corsair_pna", false)];
    if p.private_network {
        pna_variants.push(("corsair_pna", true));
    }
    for (headers_cond, headers_sent) in [
        ("!corsair_acrh".to_string(), false),
        (
            format!("corsair_acrh {id}_headers !{id}_headers_long"),
            true,
        ),
    ] {
        for (pna_cond, pna) in &pna_variants {
            let mut hdrs = vec![("Access-Control-Allow-Origin", acao.to_string())];
            if p.credentials {
                hdrs.push(("Access-Control-Allow-Credentials", "true".into()));
            }
            match &p.methods {
                PortableNames::Any => hdrs.push((
                    "Access-Control-Allow-Methods",
                    "%[req.fhdr(access-control-request-method)]".into(),
                )),
                PortableNames::List { value: Some(v), .. } => {
                    hdrs.push(("Access-Control-Allow-Methods", v.clone()))
                }
                PortableNames::List { value: None, .. } => {}
            }
            match &p.headers {
                PortableNames::Any if headers_sent => hdrs.push((
                    "Access-Control-Allow-Headers",
                    "%[req.fhdr(access-control-request-headers)]".into(),
                )),
                PortableNames::List { value: Some(v), .. } => {
                    hdrs.push(("Access-Control-Allow-Headers", v.clone()))
                }
                _ => {}
            }
            if let Some(age) = &p.max_age {
                hdrs.push(("Access-Control-Max-Age", age.clone()));
            }
            if *pna {
                hdrs.push(("Access-Control-Allow-Private-Network", "true".into()));
            }
            hdrs.push(("Vary", p.vary_preflight.clone()));
            let mut line = format!("    http-request return status {}", p.preflight_status);
            for (n, v) in hdrs {
                line.push_str(&format!(" hdr {n} {}", format_arg(&v)?));
            }
            line.push_str(&format!(" if {base} {headers_cond} {pna_cond}\n"));
            out.push_str(&line);
        }
    }
    out.push_str(&format!(
        "    http-request return status 403 hdr Vary {} if {id}_route {PREFLIGHT}\n",
        format_arg(&p.vary_preflight)?
    ));
    Ok(out)
}

fn response_rules(r: &Prepared<'_>) -> Result<String, ExportError> {
    let p: &Portable = &r.portable;
    let id = &r.id;
    let granted = format!("{{ var(txn.corsair_grant) -m str {id} }}");
    let mut out = String::new();
    let acao = match (&p.origins, p.credentials) {
        (PortableOrigins::Any, false) => "*",
        _ => "%[var(txn.corsair_origin)]",
    };
    out.push_str(&format!(
        "    http-response set-header Access-Control-Allow-Origin {} if {granted}\n",
        format_arg(acao)?
    ));
    if p.credentials {
        out.push_str(&format!(
            "    http-response set-header Access-Control-Allow-Credentials true if {granted}\n"
        ));
    }
    if let Some(expose) = &p.expose {
        out.push_str(&format!(
            "    http-response set-header Access-Control-Expose-Headers {} if {granted}\n",
            format_arg(expose)?
        ));
    }
    if let Some(vary) = &p.vary_actual {
        out.push_str(&format!(
            "    http-response add-header Vary {} if {{ var(txn.corsair_route) -m str {id} }} !{{ res.fhdr(vary) -m reg -i {} }}\n",
            format_arg(vary)?,
            quote("(^|,)[ \\t]*(origin|\\*)[ \\t]*(,|$)")?
        ));
    }
    Ok(out)
}

pub(super) fn render(
    routes: &[&Prepared<'_>],
    options: &Options,
    gaps: &[Gap],
) -> Result<String, ExportError> {
    let mut rules = String::from(SHARED_ACLS);
    for r in routes {
        rules.push_str(&path_acls(r)?);
        rules.push_str(&route_acls(r)?);
    }
    rules.push_str(&comment(
        "    #",
        "The route: the most specific path prefix wins (its rule comes last).",
    ));
    for r in routes.iter().rev() {
        rules.push_str(&format!(
            "    http-request set-var(txn.corsair_route) str({}) if {}_path\n",
            r.id, r.id
        ));
    }
    for r in routes {
        rules.push_str(&preflight_rules(r)?);
    }
    rules.push_str(&comment(
        "    #",
        "Requests that go upstream: remember the granted origin.",
    ));
    rules.push_str(
        "    http-request set-var(txn.corsair_origin) req.fhdr(origin) if corsair_origin\n",
    );
    for r in routes {
        rules.push_str(&format!(
            "    http-request set-var(txn.corsair_grant) str({id}) if {id}_route corsair_origin {id}_origin\n",
            id = r.id
        ));
    }
    rules.push_str("    http-request set-var(txn.corsair_upstream) bool(true)\n");
    let upstream_only = "{ var(txn.corsair_upstream) -m bool }";
    for name in CorsHeaders::ACCESS_CONTROL_NAMES {
        rules.push_str(&format!(
            "    http-response del-header {name} if {upstream_only}\n"
        ));
    }
    for r in routes {
        rules.push_str(&response_rules(r)?);
    }

    let mut out = comment(
        "#",
        "Written by `corsair export --to haproxy`: the corsair policy as HAProxy rules.\n\
         Every CORS decision is an ACL below; do not edit them by hand, export again.",
    );
    out.push_str(&approximations("#", gaps));
    if options.snippet {
        out.push_str(&comment(
            "#",
            "Paste these lines into your `frontend` (HAProxy 2.2 or later), before its\n\
             `use_backend` / `default_backend` lines.",
        ));
        out.push_str(&rules);
        return Ok(out);
    }
    let upstream = upstream(&options.upstream)?;
    let (host, port) = listen_addr(&options.listen)?;
    let tls = if upstream.tls() {
        format!(
            " ssl verify required ca-file @system-ca sni str({})",
            upstream.host
        )
    } else {
        String::new()
    };
    out.push_str(&comment("#", "Run: haproxy -f FILE"));
    out.push_str(
        "global\n    log stderr format raw local0 warning\n\ndefaults\n    mode http\n    log global\n    option httplog\n    timeout connect 5s\n    timeout client 60s\n    timeout server 60s\n\n",
    );
    out.push_str(&format!("frontend corsair\n    bind {host}:{port}\n"));
    out.push_str(&rules);
    out.push_str("    default_backend corsair_upstream\n\n");
    out.push_str(&format!(
        "backend corsair_upstream\n    server upstream {}{tls}\n",
        upstream.address()
    ));
    Ok(out)
}
