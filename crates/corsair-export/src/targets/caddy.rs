//! Caddy 2 (Caddyfile): each decision is a CEL `expression` matcher over
//! request placeholders (RE2 regexes), preflights answered by `respond`,
//! the upstream's own CORS headers dropped with `header_down`.

use corsair::{CorsHeaders, Portable, PortableNames, PortableOrigins};

use crate::render::{
    approximations, comment, enclose, headers_regex, listen_addr, method_regex, upstream,
};
use crate::{ExportError, Gap, Options, Prepared};

fn header(name: &str) -> String {
    format!("{{http.request.header.{name}}}")
}

/// A CEL raw string holding a regex (no escape processing).
fn raw(regex: &str) -> Result<String, ExportError> {
    enclose(
        regex,
        &['"', '`'],
        "r\"",
        "\"",
        "a regex in a Caddyfile expression",
    )
}

/// A double-quoted Caddyfile value.
fn value(text: &str) -> Result<String, ExportError> {
    enclose(text, &['"', '\\'], "\"", "\"", "a Caddyfile value")
}

struct Conditions {
    preflight: String,
    allowed: String,
    allowed_pna: Option<String>,
    granted: String,
}

fn conditions(p: &Portable) -> Result<Conditions, ExportError> {
    let origin = header("Origin");
    let acrm = header("Access-Control-Request-Method");
    let acrh = header("Access-Control-Request-Headers");
    let pna = header("Access-Control-Request-Private-Network");
    let preflight =
        format!("{{http.request.method}} == \"OPTIONS\" && {origin} != \"\" && {acrm} != \"\"");
    let origin_ok = match &p.origins {
        PortableOrigins::Any => format!("{origin} != \"\""),
        PortableOrigins::List { regex, .. } => {
            let regex = regex.clone().map_err(ExportError::Unusable)?;
            format!("{origin}.matches({})", raw(&regex)?)
        }
    };
    let method_ok = format!("{acrm}.matches({})", raw(&method_regex(p))?);
    let headers_ok = format!(
        "({acrh} == \"\" || ({acrh}.matches({}) && size({acrh}) <= {}))",
        raw(&format!("(?i){}", headers_regex(p)))?,
        p.request_headers_max_len
    );
    let pna_requested = format!("{pna}.matches(r\"(?i)^true$\")");
    let base = format!("{preflight} && {origin_ok} && {method_ok} && {headers_ok}");
    Ok(Conditions {
        allowed: format!("{base} && !{pna_requested}"),
        allowed_pna: p
            .private_network
            .then(|| format!("{base} && {pna_requested}")),
        granted: format!("!({preflight}) && {origin_ok}"),
        preflight,
    })
}

fn route_block(r: &Prepared<'_>, upstream: Option<&str>) -> Result<String, ExportError> {
    let p: &Portable = &r.portable;
    let id = &r.id;
    let c = conditions(p)?;
    let mut out = String::new();
    let matcher = match r
        .route
        .path_prefix
        .as_deref()
        .map(|p| p.trim_end_matches('/'))
    {
        None | Some("") => String::new(),
        Some(prefix) => {
            out.push_str(&format!("\t@{id} path {prefix} {prefix}/*\n"));
            format!("@{id} ")
        }
    };
    out.push_str(&comment(
        "\t#",
        &format!("{}: the corsair policy for these paths.", r.route.name),
    ));
    out.push_str(&format!("\thandle {matcher}{{\n"));
    out.push_str(&format!(
        "\t\t@{id}_preflight expression `{}`\n",
        c.preflight
    ));
    out.push_str(&format!("\t\t@{id}_allow expression `{}`\n", c.allowed));
    if let Some(pna) = &c.allowed_pna {
        out.push_str(&format!("\t\t@{id}_allow_pna expression `{pna}`\n"));
    }
    out.push_str(&format!("\t\t@{id}_grant expression `{}`\n", c.granted));
    out.push_str(&format!(
        "\t\t@{id}_not_preflight expression `!({})`\n",
        c.preflight
    ));

    let acao = match (&p.origins, p.credentials) {
        (PortableOrigins::Any, false) => "*".to_string(),
        _ => header("Origin"),
    };
    let mut allow = vec![("Access-Control-Allow-Origin", acao.clone())];
    if p.credentials {
        allow.push(("Access-Control-Allow-Credentials", "true".into()));
    }
    match &p.methods {
        PortableNames::Any => allow.push((
            "Access-Control-Allow-Methods",
            header("Access-Control-Request-Method"),
        )),
        PortableNames::List { value: Some(v), .. } => {
            allow.push(("Access-Control-Allow-Methods", v.clone()))
        }
        PortableNames::List { value: None, .. } => {}
    }
    match &p.headers {
        // Echoed by its own matcher below: Caddy would set an empty value.
        PortableNames::Any => {}
        PortableNames::List { value: Some(v), .. } => {
            allow.push(("Access-Control-Allow-Headers", v.clone()))
        }
        PortableNames::List { value: None, .. } => {}
    }
    if let Some(age) = &p.max_age {
        allow.push(("Access-Control-Max-Age", age.clone()));
    }
    let mut sets = vec![(format!("{id}_allow"), allow.clone())];
    if c.allowed_pna.is_some() {
        let mut with_pna = allow;
        with_pna.push(("Access-Control-Allow-Private-Network", "true".into()));
        sets.push((format!("{id}_allow_pna"), with_pna));
    }
    for (matcher, headers) in &sets {
        out.push_str(&format!("\t\theader @{matcher} {{\n"));
        for (n, v) in headers {
            out.push_str(&format!("\t\t\t{n} {}\n", value(v)?));
        }
        out.push_str("\t\t}\n");
    }
    if p.headers == PortableNames::Any {
        let allowed = match &c.allowed_pna {
            Some(pna) => format!("(({}) || ({pna}))", c.allowed),
            None => format!("({})", c.allowed),
        };
        out.push_str(&format!(
            "\t\t@{id}_echo_headers expression `{allowed} && {} != \"\"`\n",
            header("Access-Control-Request-Headers")
        ));
        out.push_str(&format!(
            "\t\theader @{id}_echo_headers Access-Control-Allow-Headers {}\n",
            value(&header("Access-Control-Request-Headers"))?
        ));
    }
    out.push_str(&format!(
        "\t\theader @{id}_preflight Vary {}\n",
        value(&p.vary_preflight)?
    ));
    let mut granted = vec![("Access-Control-Allow-Origin", acao)];
    if p.credentials {
        granted.push(("Access-Control-Allow-Credentials", "true".into()));
    }
    if let Some(expose) = &p.expose {
        granted.push(("Access-Control-Expose-Headers", expose.clone()));
    }
    out.push_str(&format!("\t\theader @{id}_grant {{\n"));
    for (n, v) in granted {
        out.push_str(&format!("\t\t\t{n} {}\n", value(&v)?));
    }
    out.push_str("\t\t}\n");
    if let Some(vary) = &p.vary_actual {
        out.push_str(&format!(
            "\t\theader @{id}_not_preflight +Vary {}\n",
            value(vary)?
        ));
    }
    for (matcher, _) in &sets {
        out.push_str(&format!("\t\trespond @{matcher} {}\n", p.preflight_status));
    }
    out.push_str(&format!("\t\trespond @{id}_preflight 403\n"));
    match upstream {
        Some(upstream) => {
            out.push_str(&format!("\t\treverse_proxy {upstream} {{\n"));
            for name in CorsHeaders::ACCESS_CONTROL_NAMES {
                out.push_str(&format!("\t\t\theader_down -{name}\n"));
            }
            out.push_str("\t\t}\n");
        }
        None => out.push_str(&comment(
            "\t\t#",
            "Your handler here (reverse_proxy, file_server, ...); drop the upstream's own\n\
             Access-Control-* headers with `header_down -Access-Control-Allow-Origin` etc.",
        )),
    }
    out.push_str("\t}\n");
    Ok(out)
}

pub(super) fn render(
    routes: &[&Prepared<'_>],
    options: &Options,
    gaps: &[Gap],
) -> Result<String, ExportError> {
    let mut out = comment(
        "#",
        "Written by `corsair export --to caddy`: the corsair policy as a Caddyfile.\n\
         Every CORS decision is an expression matcher below; export again to change them.",
    );
    out.push_str(&approximations("#", gaps));
    if options.snippet {
        out.push_str(&comment(
            "#",
            "Paste these blocks into your site block; each `handle` replaces the one for the\n\
             same paths.",
        ));
        for r in routes {
            out.push_str(&route_block(r, None)?);
        }
        return Ok(out);
    }
    let upstream = upstream(&options.upstream)?.origin();
    let (host, port) = listen_addr(&options.listen)?;
    out.push_str(&comment(
        "#",
        "Run: caddy run --adapter caddyfile --config FILE",
    ));
    out.push_str("{\n\tadmin off\n\tauto_https off\n}\n\n");
    out.push_str(&format!("http://{host}:{port} {{\n"));
    for r in routes {
        out.push_str(&route_block(r, Some(&upstream))?);
    }
    out.push_str("}\n");
    Ok(out)
}
