//! Amazon S3: the bucket CORS configuration `aws s3api put-bucket-cors`
//! takes (`--cors-configuration file://FILE`).

use serde_json::{json, Map};

use crate::render::{items, json, names, origin_list, single};
use crate::{ExportError, Gap, Options, Prepared};

/// The methods S3 accepts in `AllowedMethods`.
const S3_METHODS: [&str; 5] = ["GET", "PUT", "POST", "DELETE", "HEAD"];

pub(super) fn render(
    routes: &[&Prepared<'_>],
    _options: &Options,
    _gaps: &[Gap],
) -> Result<String, ExportError> {
    let r = single(routes, "S3 has one CORS configuration per bucket")?;
    let p = &r.portable;
    let (plain, _) = origin_list(p);
    let mut methods: Vec<String> = vec!["GET".into(), "HEAD".into(), "POST".into()];
    for m in names(&p.methods) {
        if !S3_METHODS.contains(&m.as_str()) {
            return Err(ExportError::Unusable(format!(
                "{}: S3 accepts only the methods {}; `{m}` is not one",
                r.route.name,
                S3_METHODS.join(", ")
            )));
        }
        if !methods.contains(&m) {
            methods.push(m);
        }
    }
    let mut rule = Map::new();
    rule.insert("AllowedOrigins".into(), json!(plain));
    rule.insert("AllowedMethods".into(), json!(methods));
    let headers = names(&p.headers);
    if !headers.is_empty() {
        rule.insert("AllowedHeaders".into(), json!(headers));
    }
    if let Some(expose) = &p.expose {
        rule.insert("ExposeHeaders".into(), json!(items(&Some(expose.clone()))));
    }
    if let Some(age) = &p.max_age {
        rule.insert(
            "MaxAgeSeconds".into(),
            json!(age.parse::<u64>().unwrap_or(0)),
        );
    }
    Ok(json(&json!({"CORSRules": [rule]})))
}
