//! nginx: every decision as `map` blocks (http context), answered by
//! `add_header … always` (an empty value adds nothing) and `return` for
//! preflights. Needs only the core modules (`nginx-light` has them).

use corsair::{CorsHeaders, Portable, PortableNames, PortableOrigins};

use crate::render::{
    approximations, comment, enclose, headers_regex, listen_addr, method_regex, upstream,
};
use crate::{ExportError, Gap, Options, Prepared};

/// nginx reads `\` escapes in quoted strings only for quotes and `\\`;
/// a regex goes in double quotes with `"` and `\\` left out of it.
fn quote(text: &str) -> Result<String, ExportError> {
    if text.contains("\\\\") {
        return Err(ExportError::Unusable(format!(
            "`{text}` cannot be written as an nginx string"
        )));
    }
    enclose(text, &['"'], "\"", "\"", "an nginx string")
}

fn maps(r: &Prepared<'_>) -> Result<String, ExportError> {
    let p: &Portable = &r.portable;
    let id = format!("corsair_{}", r.id);
    let mut out = String::new();
    out.push_str(&comment(
        "#",
        &format!(
            "{}{}: whether each part of a CORS request is allowed.",
            r.route.name,
            r.route
                .path_prefix
                .as_ref()
                .map(|p| format!(" ({p})"))
                .unwrap_or_default()
        ),
    ));
    match &p.origins {
        PortableOrigins::Any => {
            out.push_str(&format!(
                "map $http_origin ${id}_origin {{\n    \"\" \"\";\n    default ok;\n}}\n"
            ));
        }
        PortableOrigins::List { regex, .. } => {
            let regex = regex.clone().map_err(ExportError::Unusable)?;
            out.push_str(&format!(
                "map $http_origin ${id}_origin {{\n    default \"\";\n    {} ok;\n}}\n",
                quote(&format!("~{regex}"))?
            ));
        }
    }
    out.push_str(&format!(
        "map $http_access_control_request_method ${id}_method {{\n    default \"\";\n    {} ok;\n}}\n",
        quote(&format!("~{}", method_regex(p)))?
    ));
    out.push_str(&format!(
        "map $http_access_control_request_headers ${id}_headers {{\n    \"\" ok;\n    \"~^.{{{}}}\" \"\";\n    {} ok;\n    default \"\";\n}}\n",
        p.request_headers_max_len + 1,
        quote(&format!("~*{}", headers_regex(p)))?
    ));
    out.push_str(&format!(
        "map $http_access_control_request_private_network ${id}_pna {{\n    \"~*^true$\" requested;\n    default \"\";\n}}\n"
    ));
    let pna_allowed = if p.private_network {
        "    \"preflight:ok:ok:ok:requested\" allow;\n".to_string()
    } else {
        String::new()
    };
    out.push_str(&format!(
        "map \"$corsair_kind:${id}_origin:${id}_method:${id}_headers:${id}_pna\" ${id}_preflight {{\n    \"preflight:ok:ok:ok:\" allow;\n{pna_allowed}    \"~^preflight:\" refuse;\n    default \"\";\n}}\n"
    ));
    out.push_str(&format!(
        "map \"$corsair_kind:${id}_preflight:${id}_origin\" ${id}_grant {{\n    \"preflight:allow:ok\" preflight;\n    \"actual::ok\" actual;\n    default \"\";\n}}\n"
    ));
    let value_map = |name: &str,
                     preflight: Option<String>,
                     actual: Option<String>|
     -> Result<String, ExportError> {
        let mut m = format!("map ${id}_grant ${id}_{name} {{\n    default \"\";\n");
        if let Some(v) = preflight {
            m.push_str(&format!("    preflight {};\n", quote(&v)?));
        }
        if let Some(v) = actual {
            m.push_str(&format!("    actual {};\n", quote(&v)?));
        }
        m.push_str("}\n");
        Ok(m)
    };
    let acao = match (&p.origins, p.credentials) {
        (PortableOrigins::Any, false) => "*".to_string(),
        _ => "$http_origin".to_string(),
    };
    out.push_str(&value_map("acao", Some(acao.clone()), Some(acao))?);
    let acac = p.credentials.then(|| "true".to_string());
    out.push_str(&value_map("acac", acac.clone(), acac)?);
    let acam = match &p.methods {
        PortableNames::Any => Some("$http_access_control_request_method".to_string()),
        PortableNames::List { value, .. } => value.clone(),
    };
    out.push_str(&value_map("acam", acam, None)?);
    let acah = match &p.headers {
        PortableNames::Any => Some("$http_access_control_request_headers".to_string()),
        PortableNames::List { value, .. } => value.clone(),
    };
    out.push_str(&value_map("acah", acah, None)?);
    out.push_str(&value_map("acma", p.max_age.clone(), None)?);
    out.push_str(&value_map("aceh", None, p.expose.clone())?);
    out.push_str(&format!(
        "map \"${id}_grant:${id}_pna\" ${id}_acapn {{\n    \"preflight:requested\" true;\n    default \"\";\n}}\n"
    ));
    out.push_str(&format!(
        "map $corsair_kind ${id}_vary {{\n    preflight {};\n    default {};\n}}\n",
        quote(&p.vary_preflight)?,
        quote(p.vary_actual.as_deref().unwrap_or(""))?
    ));
    Ok(out)
}

/// The maps every route shares: whether the request is a CORS preflight,
/// another CORS request, or not a CORS request.
const SHARED_MAPS: &str = "\
map $http_origin $corsair_has_origin {
    \"\" \"\";
    default 1;
}
map \"$corsair_has_origin:$request_method:$http_access_control_request_method\" $corsair_kind {
    \"~^1:OPTIONS:.\" preflight;
    \"~^1:\" actual;
    default \"\";
}
";

fn location_body(r: &Prepared<'_>, proxy: Option<&str>, indent: &str) -> String {
    let id = format!("corsair_{}", r.id);
    let mut out = String::new();
    if let Some(proxy) = proxy {
        out.push_str(&format!("{indent}proxy_pass {proxy};\n"));
    }
    for name in CorsHeaders::ACCESS_CONTROL_NAMES {
        out.push_str(&format!("{indent}proxy_hide_header {name};\n"));
    }
    out.push_str(&format!(
        "{indent}if (${id}_preflight = refuse) {{\n{indent}    return 403;\n{indent}}}\n"
    ));
    out.push_str(&format!(
        "{indent}if (${id}_preflight = allow) {{\n{indent}    return {};\n{indent}}}\n",
        r.portable.preflight_status
    ));
    let names = [
        ("Access-Control-Allow-Origin", "acao"),
        ("Access-Control-Allow-Credentials", "acac"),
        ("Access-Control-Allow-Methods", "acam"),
        ("Access-Control-Allow-Headers", "acah"),
        ("Access-Control-Max-Age", "acma"),
        ("Access-Control-Allow-Private-Network", "acapn"),
        ("Access-Control-Expose-Headers", "aceh"),
        ("Vary", "vary"),
    ];
    for (header, var) in names {
        out.push_str(&format!(
            "{indent}add_header {header} ${id}_{var} always;\n"
        ));
    }
    out
}

/// The `location` blocks of a route: `location = /p` and
/// `location ^~ /p/` (corsair's prefixes end at a `/`), or `location /`.
fn locations(r: &Prepared<'_>, proxy: Option<&str>) -> String {
    let body = location_body(r, proxy, "        ");
    match r
        .route
        .path_prefix
        .as_deref()
        .map(|p| p.trim_end_matches('/'))
    {
        None | Some("") => format!("    location / {{\n{body}    }}\n"),
        Some(p) => {
            format!("    location = {p} {{\n{body}    }}\n    location ^~ {p}/ {{\n{body}    }}\n")
        }
    }
}

pub(super) fn render(
    routes: &[&Prepared<'_>],
    options: &Options,
    gaps: &[Gap],
) -> Result<String, ExportError> {
    let mut maps_text = String::from(SHARED_MAPS);
    for r in routes {
        maps_text.push_str(&maps(r)?);
    }
    let mut out = comment(
        "#",
        "Written by `corsair export --to nginx`: the corsair policy as nginx config.\n\
         Every CORS decision is a map below; do not edit them by hand, export again.",
    );
    out.push_str(&approximations("#", gaps));
    if options.snippet {
        out.push_str(&comment(
            "#",
            "1. Paste these maps into the `http { }` block (e.g. /etc/nginx/conf.d/corsair.conf).",
        ));
        out.push_str(&maps_text);
        out.push_str(&comment(
            "#",
            "2. Paste these locations into your `server { }` block, replacing the ones for\n\
             the same paths, and add your `proxy_pass` (or other handler) to each.",
        ));
        for r in routes {
            out.push_str(&locations(r, None));
        }
        return Ok(out);
    }
    let upstream = upstream(&options.upstream)?;
    let (host, port) = listen_addr(&options.listen)?;
    let proxy = format!("{}://corsair_upstream", upstream.scheme);
    out.push_str(&comment(
        "#",
        "Run: nginx -p DIR -c FILE (DIR holds the pid file and temp directories).",
    ));
    out.push_str("daemon off;\nworker_processes auto;\npid nginx.pid;\nerror_log stderr;\n");
    out.push_str("events {\n    worker_connections 1024;\n}\n");
    out.push_str("http {\n    access_log off;\n");
    for temp in ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"] {
        out.push_str(&format!("    {temp}_temp_path {temp}_temp;\n"));
    }
    // Kept-alive upstream connections, as a production proxy has them.
    out.push_str(&format!(
        "    upstream corsair_upstream {{\n        server {};\n        keepalive 64;\n    }}\n",
        upstream.address()
    ));
    out.push_str("    proxy_http_version 1.1;\n    proxy_set_header Connection \"\";\n");
    out.push_str(&format!(
        "    proxy_set_header Host {};\n",
        upstream.authority
    ));
    if upstream.tls() {
        out.push_str(&format!(
            "    proxy_ssl_server_name on;\n    proxy_ssl_name {};\n    proxy_ssl_verify on;\n    proxy_ssl_trusted_certificate /etc/ssl/certs/ca-certificates.crt;\n",
            upstream.host
        ));
    }
    for line in maps_text.lines() {
        if line.is_empty() {
            out.push('\n');
        } else {
            out.push_str(&format!("    {line}\n"));
        }
    }
    let listen_host = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host
    };
    out.push_str(&format!(
        "    server {{\n        listen {listen_host}:{port};\n"
    ));
    for r in routes {
        for line in locations(r, Some(&proxy)).lines() {
            out.push_str(&format!("    {line}\n"));
        }
    }
    out.push_str("    }\n}\n");
    Ok(out)
}
