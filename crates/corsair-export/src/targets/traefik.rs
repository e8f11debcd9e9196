//! Traefik: a `headers` middleware per route (dynamic configuration),
//! with routers and the upstream service.

use serde_json::{json, Map, Value};

use crate::render::{approximations, comment, items, names, origin_list, yaml};
use crate::{ExportError, Gap, Options, Prepared};

/// The route's `headers` middleware.
pub(crate) fn middleware(r: &Prepared<'_>) -> Value {
    let p = &r.portable;
    let (plain, anchored) = origin_list(p);
    let mut headers = Map::new();
    let exact: Vec<&String> = plain
        .iter()
        .filter(|o| *o == "*" || !o.contains('*'))
        .collect();
    if !exact.is_empty() {
        headers.insert("accessControlAllowOriginList".into(), json!(exact));
    }
    if !anchored.is_empty() {
        // Traefik's regexes match anywhere in the origin: each is anchored.
        headers.insert("accessControlAllowOriginListRegex".into(), json!(anchored));
    }
    headers.insert("accessControlAllowMethods".into(), json!(names(&p.methods)));
    headers.insert("accessControlAllowHeaders".into(), json!(names(&p.headers)));
    if let Some(expose) = &p.expose {
        headers.insert(
            "accessControlExposeHeaders".into(),
            json!(items(&Some(expose.clone()))),
        );
    }
    if p.credentials {
        headers.insert("accessControlAllowCredentials".into(), json!(true));
    }
    if let Some(age) = &p.max_age {
        headers.insert(
            "accessControlMaxAge".into(),
            json!(age.parse::<u64>().unwrap_or(0)),
        );
    }
    headers.insert("addVaryHeader".into(), json!(p.vary_actual.is_some()));
    json!({"headers": headers})
}

pub(super) fn render(
    routes: &[&Prepared<'_>],
    options: &Options,
    gaps: &[Gap],
) -> Result<String, ExportError> {
    let mut middlewares = Map::new();
    let mut routers = Map::new();
    for r in routes {
        let name = format!("corsair-{}", r.id);
        middlewares.insert(name.clone(), middleware(r));
        let rule = match r
            .route
            .path_prefix
            .as_deref()
            .map(|p| p.trim_end_matches('/'))
        {
            None | Some("") => "PathPrefix(`/`)".to_string(),
            Some(p) => format!("Path(`{p}`) || PathPrefix(`{p}/`)"),
        };
        routers.insert(
            name.clone(),
            json!({"rule": rule, "middlewares": [name], "service": "corsair-upstream"}),
        );
    }
    let mut header = comment(
        "#",
        "Written by `corsair export --to traefik`: Traefik dynamic configuration (file\n\
         provider). One headers middleware per corsair route.",
    );
    header.push_str(&approximations("#", gaps));
    yaml(
        &header,
        &json!({"http": {
            "routers": routers,
            "middlewares": middlewares,
            "services": {"corsair-upstream": {"loadBalancer": {"servers": [{"url": options.upstream}]}}},
        }}),
    )
}
