//! Kong: the `cors` plugin on each route (declarative configuration).

use serde_json::{json, Value};

use crate::render::{approximations, comment, items, names, origin_list, yaml};
use crate::{ExportError, Gap, Options, Prepared};

/// The methods Kong's `cors` plugin schema accepts.
const KONG_METHODS: [&str; 9] = [
    "GET", "HEAD", "PUT", "PATCH", "POST", "DELETE", "OPTIONS", "TRACE", "CONNECT",
];

/// The route's `cors` plugin config.
pub(crate) fn plugin_config(r: &Prepared<'_>) -> Result<Value, ExportError> {
    let p = &r.portable;
    let (plain, anchored) = origin_list(p);
    let origins: Vec<String> = if plain == ["*"] {
        plain
    } else {
        // Exact origins as flat strings, patterns and regexes anchored.
        plain
            .into_iter()
            .filter(|o| !o.contains('*'))
            .chain(anchored)
            .collect()
    };
    let methods: Vec<String> = match names(&p.methods).as_slice() {
        [star] if star == "*" => KONG_METHODS.iter().map(|m| m.to_string()).collect(),
        list => {
            if let Some(bad) = list.iter().find(|m| !KONG_METHODS.contains(&m.as_str())) {
                return Err(ExportError::Unusable(format!(
                    "{}: Kong's cors plugin accepts only the methods {}; `{bad}` is not one",
                    r.route.name,
                    KONG_METHODS.join(", ")
                )));
            }
            list.to_vec()
        }
    };
    let mut config = json!({
        "origins": origins,
        "methods": methods,
        "headers": names(&p.headers),
        "credentials": p.credentials,
        "preflight_continue": false,
        "private_network": p.private_network,
    });
    if let Some(expose) = &p.expose {
        config["exposed_headers"] = json!(items(&Some(expose.clone())));
    }
    if let Some(age) = &p.max_age {
        config["max_age"] = json!(age.parse::<u64>().unwrap_or(0));
    }
    Ok(config)
}

pub(super) fn render(
    routes: &[&Prepared<'_>],
    options: &Options,
    gaps: &[Gap],
) -> Result<String, ExportError> {
    let mut kong_routes = Vec::new();
    for r in routes {
        let paths = match r
            .route
            .path_prefix
            .as_deref()
            .map(|p| p.trim_end_matches('/'))
        {
            None | Some("") => json!(["/"]),
            Some(p) => json!([format!("~{}(?:/|$)", corsair::policy::escape_regex(p))]),
        };
        kong_routes.push(json!({
            "name": format!("corsair-{}", r.id),
            "paths": paths,
            "strip_path": false,
            "plugins": [{"name": "cors", "config": plugin_config(r)?}],
        }));
    }
    let mut header = comment(
        "#",
        "Written by `corsair export --to kong`: Kong declarative configuration\n\
         (kong config db_import FILE, or KONG_DECLARATIVE_CONFIG).",
    );
    header.push_str(&approximations("#", gaps));
    yaml(
        &header,
        &json!({
            "_format_version": "3.0",
            "services": [{"name": "corsair-upstream", "url": options.upstream, "routes": kong_routes}],
        }),
    )
}
