//! Amazon API Gateway (HTTP APIs): the `CorsConfiguration` that
//! `aws apigatewayv2 update-api --cors-configuration file://FILE` takes.

use serde_json::{json, Map};

use crate::render::{items, json, names, origin_list, single};
use crate::{ExportError, Gap, Options, Prepared};

pub(super) fn render(
    routes: &[&Prepared<'_>],
    _options: &Options,
    _gaps: &[Gap],
) -> Result<String, ExportError> {
    let r = single(routes, "an HTTP API has one CORS configuration")?;
    let p = &r.portable;
    let (plain, _) = origin_list(p);
    let mut config = Map::new();
    config.insert("AllowOrigins".into(), json!(plain));
    config.insert("AllowMethods".into(), json!(names(&p.methods)));
    config.insert("AllowHeaders".into(), json!(names(&p.headers)));
    if let Some(expose) = &p.expose {
        config.insert("ExposeHeaders".into(), json!(items(&Some(expose.clone()))));
    }
    if p.credentials {
        config.insert("AllowCredentials".into(), json!(true));
    }
    if let Some(age) = &p.max_age {
        config.insert("MaxAge".into(), json!(age.parse::<u64>().unwrap_or(0)));
    }
    Ok(json(&json!(config)))
}
