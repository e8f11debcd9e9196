//! Apache httpd 2.4: each decision is an `ap_expr` over request headers
//! (PCRE regexes) reading headers with `req_novary` (`HTTP:` would add
//! each header read to `Vary`); preflights are answered by mod_rewrite (`R=204`, `F`),
//! headers by mod_headers with `expr=` conditions; the upstream's own CORS
//! headers are unset before corsair's are set.

use corsair::{CorsHeaders, Portable, PortableNames, PortableOrigins};

use crate::render::{
    approximations, comment, enclose, headers_regex, listen_addr, method_regex, upstream,
};
use crate::{ExportError, Gap, Options, Prepared};

/// An `ap_expr` regex literal, `m;…;`: `;` is neither a token character
/// nor found in a serialized origin, and `ap_expr` takes it as a delimiter.
fn regex(re: &str, flags: &str) -> Result<String, ExportError> {
    enclose(
        re,
        &[';', '"'],
        "m;",
        &format!(";{flags}"),
        "a regex in an Apache expression",
    )
}

/// A double-quoted directive argument.
fn quoted(text: &str) -> Result<String, ExportError> {
    enclose(text, &['"'], "\"", "\"", "an Apache argument")
}

const PREFLIGHT: &str = "%{REQUEST_METHOD} == 'OPTIONS' && -n %{req_novary:Origin} && -n %{req_novary:Access-Control-Request-Method}";

/// The path condition of each route, exclusive of more specific routes
/// (routes come most specific first).
fn path_conditions(routes: &[&Prepared<'_>]) -> Result<Vec<String>, ExportError> {
    let own: Vec<Option<String>> = routes
        .iter()
        .map(|r| {
            match r
                .route
                .path_prefix
                .as_deref()
                .map(|p| p.trim_end_matches('/'))
            {
                None | Some("") => Ok(None),
                Some(p) => Ok(Some(format!(
                    "%{{REQUEST_URI}} =~ {}",
                    regex(&format!("^{}(?:/|$)", corsair::policy::escape_regex(p)), "")?
                ))),
            }
        })
        .collect::<Result<_, ExportError>>()?;
    Ok((0..routes.len())
        .map(|i| {
            let mut parts: Vec<String> = own[i].iter().cloned().collect();
            parts.extend(own[..i].iter().flatten().map(|c| format!("!({c})")));
            if parts.is_empty() {
                "true".to_string()
            } else {
                parts.join(" && ")
            }
        })
        .collect())
}

fn route_rules(r: &Prepared<'_>, path: &str) -> Result<String, ExportError> {
    let p: &Portable = &r.portable;
    let origin_ok = match &p.origins {
        PortableOrigins::Any => "-n %{req_novary:Origin}".to_string(),
        PortableOrigins::List { regex: re, .. } => {
            let re = re.clone().map_err(ExportError::Unusable)?;
            format!("%{{req_novary:Origin}} =~ {}", regex(&re, "")?)
        }
    };
    let method_ok = format!(
        "%{{req_novary:Access-Control-Request-Method}} =~ {}",
        regex(&method_regex(p), "")?
    );
    let acrh = "%{req_novary:Access-Control-Request-Headers}";
    let headers_ok = format!(
        "(-z {acrh} || ({acrh} =~ {} && !({acrh} =~ {})))",
        regex(&headers_regex(p), "i")?,
        regex(&format!("^.{{{}}}", p.request_headers_max_len + 1), "")?
    );
    let pna = "%{req_novary:Access-Control-Request-Private-Network} =~ m;^true$;i";
    let preflight = format!("({path}) && {PREFLIGHT}");
    let base = format!("{preflight} && {origin_ok} && {method_ok} && {headers_ok}");
    let allowed = if p.private_network {
        base.clone()
    } else {
        format!("{base} && !({pna})")
    };
    let granted = format!("({path}) && !({PREFLIGHT}) && {origin_ok}");
    let not_preflight = format!("({path}) && !({PREFLIGHT})");

    let mut out = comment(
        "#",
        &format!("{}: the corsair policy for these paths.", r.route.name),
    );
    let set = |name: &str, value: &str, cond: &str| -> Result<String, ExportError> {
        Ok(format!(
            "Header always set {name} {} {}\n",
            quoted(value)?,
            quoted(&format!("expr={cond}"))?
        ))
    };
    let acao = match (&p.origins, p.credentials) {
        (PortableOrigins::Any, false) => "*",
        _ => "expr=%{req_novary:Origin}",
    };
    out.push_str(&set("Access-Control-Allow-Origin", acao, &allowed)?);
    out.push_str(&set("Access-Control-Allow-Origin", acao, &granted)?);
    if p.credentials {
        out.push_str(&set("Access-Control-Allow-Credentials", "true", &allowed)?);
        out.push_str(&set("Access-Control-Allow-Credentials", "true", &granted)?);
    }
    match &p.methods {
        PortableNames::Any => out.push_str(&set(
            "Access-Control-Allow-Methods",
            "expr=%{req_novary:Access-Control-Request-Method}",
            &allowed,
        )?),
        PortableNames::List { value: Some(v), .. } => {
            out.push_str(&set("Access-Control-Allow-Methods", v, &allowed)?)
        }
        PortableNames::List { value: None, .. } => {}
    }
    match &p.headers {
        PortableNames::Any => out.push_str(&set(
            "Access-Control-Allow-Headers",
            "expr=%{req_novary:Access-Control-Request-Headers}",
            &format!("{allowed} && -n {acrh}"),
        )?),
        PortableNames::List { value: Some(v), .. } => {
            out.push_str(&set("Access-Control-Allow-Headers", v, &allowed)?)
        }
        PortableNames::List { value: None, .. } => {}
    }
    if let Some(age) = &p.max_age {
        out.push_str(&set("Access-Control-Max-Age", age, &allowed)?);
    }
    if p.private_network {
        out.push_str(&set(
            "Access-Control-Allow-Private-Network",
            "true",
            &format!("{allowed} && {pna}"),
        )?);
    }
    if let Some(expose) = &p.expose {
        out.push_str(&set("Access-Control-Expose-Headers", expose, &granted)?);
    }
    out.push_str(&set("Vary", &p.vary_preflight, &preflight)?);
    if let Some(vary) = &p.vary_actual {
        out.push_str(&format!(
            "Header always merge Vary {} {}\n",
            quoted(vary)?,
            quoted(&format!("expr={not_preflight}"))?
        ));
    }
    // NV: a header read by a condition is not added to `Vary` (the policy
    // says what varies).
    out.push_str(&format!("RewriteCond expr {} [NV]\n", quoted(&allowed)?));
    out.push_str(&format!("RewriteRule ^ - [R={},L]\n", p.preflight_status));
    out.push_str(&format!("RewriteCond expr {} [NV]\n", quoted(&preflight)?));
    out.push_str("RewriteRule ^ - [F]\n");
    Ok(out)
}

pub(super) fn render(
    routes: &[&Prepared<'_>],
    options: &Options,
    gaps: &[Gap],
) -> Result<String, ExportError> {
    let mut rules = String::new();
    rules.push_str(&comment(
        "#",
        "The upstream's own Access-Control-* headers never reach the browser.",
    ));
    for name in CorsHeaders::ACCESS_CONTROL_NAMES {
        rules.push_str(&format!("Header unset {name}\n"));
    }
    rules.push_str("RewriteEngine On\n");
    let paths = path_conditions(routes)?;
    for (r, path) in routes.iter().zip(&paths) {
        rules.push_str(&route_rules(r, path)?);
    }
    let mut out = comment(
        "#",
        "Written by `corsair export --to apache`: the corsair policy as Apache httpd 2.4\n\
         config (mod_headers, mod_rewrite). Export again to change it.",
    );
    out.push_str(&approximations("#", gaps));
    if options.snippet {
        out.push_str(&comment(
            "#",
            "Paste these lines into your <VirtualHost> (mod_headers and mod_rewrite enabled:\n\
             a2enmod headers rewrite), outside any <Location> or <Directory>.",
        ));
        out.push_str(&rules);
        return Ok(out);
    }
    let upstream = upstream(&options.upstream)?;
    let (host, port) = listen_addr(&options.listen)?;
    let dir = &options.runtime_dir;
    out.push_str(&comment(
        "#",
        &format!("Run: apache2 -f FILE -DFOREGROUND (runtime files in {dir})"),
    ));
    for module in [
        ("mpm_event", "mod_mpm_event"),
        ("authz_core", "mod_authz_core"),
        ("headers", "mod_headers"),
        ("rewrite", "mod_rewrite"),
        ("proxy", "mod_proxy"),
        ("proxy_http", "mod_proxy_http"),
    ] {
        out.push_str(&format!(
            "LoadModule {}_module /usr/lib/apache2/modules/{}.so\n",
            module.0, module.1
        ));
    }
    if upstream.tls() {
        out.push_str(
            "LoadModule ssl_module /usr/lib/apache2/modules/mod_ssl.so\nSSLProxyEngine on\n",
        );
    }
    out.push_str(&format!(
        "ServerName {host}\nListen {host}:{port}\nDefaultRuntimeDir {q}\nPidFile {p}\nErrorLog /dev/stderr\nLogLevel warn\n\
         <IfModule unixd_module>\nUser www-data\nGroup www-data\n</IfModule>\n",
        q = quoted(dir)?,
        p = quoted(&format!("{dir}/apache2.pid"))?
    ));
    out.push_str(&rules);
    let origin = upstream.origin();
    out.push_str(&format!(
        "ProxyPass \"/\" \"{origin}/\"\nProxyPassReverse \"/\" \"{origin}/\"\n"
    ));
    Ok(out)
}
