//! Envoy: the `envoy.filters.http.cors` filter in the HTTP connection
//! manager, and a `CorsPolicy` per route in `typed_per_filter_config`.

use serde_json::{json, Value};

use crate::render::{approximations, comment, items, names, origin_list, upstream, yaml};
use crate::{ExportError, Gap, Options, Prepared};

/// The route's `CorsPolicy`.
pub(crate) fn cors_policy(r: &Prepared<'_>) -> Value {
    let p = &r.portable;
    let (plain, anchored) = origin_list(p);
    let matches: Vec<Value> = if plain == ["*"] {
        vec![json!({"safe_regex": {"regex": ".*"}})]
    } else {
        let exact = plain
            .iter()
            .filter(|o| !o.contains('*'))
            .map(|o| json!({"exact": o}));
        let regexes = anchored.iter().map(|r| json!({"safe_regex": {"regex": r}}));
        exact.chain(regexes).collect()
    };
    let mut policy = json!({
        "@type": "type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy",
        "allow_origin_string_match": matches,
        "allow_methods": names(&p.methods).join(", "),
        "allow_headers": names(&p.headers).join(", "),
        "allow_credentials": p.credentials,
        "forward_not_matching_preflights": false,
    });
    if let Some(expose) = &p.expose {
        policy["expose_headers"] = json!(items(&Some(expose.clone())).join(", "));
    }
    if let Some(age) = &p.max_age {
        policy["max_age"] = json!(age);
    }
    if p.private_network {
        policy["allow_private_network_access"] = json!(true);
    }
    policy
}

pub(super) fn render(
    routes: &[&Prepared<'_>],
    options: &Options,
    gaps: &[Gap],
) -> Result<String, ExportError> {
    let upstream = upstream(&options.upstream)?;
    let route_entries: Vec<Value> = routes
        .iter()
        .map(|r| {
            let matcher = match r
                .route
                .path_prefix
                .as_deref()
                .map(|p| p.trim_end_matches('/'))
            {
                None | Some("") => json!({"prefix": "/"}),
                Some(p) => json!({"path_separated_prefix": p}),
            };
            json!({
                "name": r.route.name,
                "match": matcher,
                "route": {"cluster": "corsair_upstream"},
                "typed_per_filter_config": {"envoy.filters.http.cors": cors_policy(r)},
            })
        })
        .collect();
    let mut header = comment(
        "#",
        "Written by `corsair export --to envoy`: put the cors filter before the router in\n\
         your HTTP connection manager's http_filters, and each route's typed_per_filter_config\n\
         on the matching route.",
    );
    header.push_str(&approximations("#", gaps));
    let value = json!({
        "http_filters": [
            {"name": "envoy.filters.http.cors", "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors"}},
            {"name": "envoy.filters.http.router", "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}},
        ],
        "route_config": {
            "name": "corsair",
            "virtual_hosts": [{"name": "corsair", "domains": ["*"], "routes": route_entries}],
        },
        "clusters": [{
            "name": "corsair_upstream",
            "type": "STRICT_DNS",
            "load_assignment": {"cluster_name": "corsair_upstream", "endpoints": [{"lb_endpoints": [{"endpoint": {"address": {"socket_address": {"address": upstream.host, "port_value": upstream.port}}}}]}]},
        }],
    });
    yaml(&header, &value)
}
