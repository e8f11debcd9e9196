//! The Kubernetes Gateway API: an `HTTPRoute` with a `CORS` filter per rule
//! (standard channel).

use serde_json::{json, Map, Value};

use crate::render::{approximations, comment, items, names, origin_list, yaml};
use crate::{ExportError, Gap, Options, Prepared};

/// The rule's `cors` filter.
pub(crate) fn cors_filter(r: &Prepared<'_>) -> Value {
    let p = &r.portable;
    let (plain, _) = origin_list(p);
    let mut cors = Map::new();
    cors.insert("allowOrigins".into(), json!(plain));
    cors.insert("allowMethods".into(), json!(names(&p.methods)));
    cors.insert("allowHeaders".into(), json!(names(&p.headers)));
    if let Some(expose) = &p.expose {
        cors.insert("exposeHeaders".into(), json!(items(&Some(expose.clone()))));
    }
    if p.credentials {
        cors.insert("allowCredentials".into(), json!(true));
    }
    if let Some(age) = &p.max_age {
        cors.insert("maxAge".into(), json!(age.parse::<u64>().unwrap_or(0)));
    }
    json!({"type": "CORS", "cors": cors})
}

pub(super) fn render(
    routes: &[&Prepared<'_>],
    _options: &Options,
    gaps: &[Gap],
) -> Result<String, ExportError> {
    let rules: Vec<Value> = routes
        .iter()
        .map(|r| {
            let path = match r
                .route
                .path_prefix
                .as_deref()
                .map(|p| p.trim_end_matches('/'))
            {
                None | Some("") => "/".to_string(),
                Some(p) => p.to_string(),
            };
            json!({
                "matches": [{"path": {"type": "PathPrefix", "value": path}}],
                "filters": [cors_filter(r)],
                "backendRefs": [{"name": "UPSTREAM-SERVICE", "port": 80}],
            })
        })
        .collect();
    let mut header = comment(
        "#",
        "Written by `corsair export --to gateway-api`: an HTTPRoute with the CORS filter.\n\
         Set parentRefs to your Gateway and backendRefs to your Service.",
    );
    header.push_str(&approximations("#", gaps));
    yaml(
        &header,
        &json!({
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "HTTPRoute",
            "metadata": {"name": "corsair"},
            "spec": {"parentRefs": [{"name": "GATEWAY"}], "rules": rules},
        }),
    )
}
