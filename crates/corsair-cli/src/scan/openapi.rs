//! The operations of an API description (OpenAPI 3.0 and 3.1, Swagger 2.0;
//! YAML or JSON), each turned into a scan target: its method, its URL with
//! the path parameters filled in, and the request headers a page calling it
//! would send (so the preflight probes ask for those).

use serde::Serialize;
use serde_json::Value;

/// One operation to scan.
#[derive(Debug, Clone, Serialize)]
pub struct Operation {
    /// The method, uppercase.
    pub method: String,
    /// The path template as written in the spec (`/users/{id}`).
    pub path: String,
    /// `operationId`, when the spec gives one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation_id: Option<String>,
    /// The URL scanned.
    pub url: String,
    /// Path or query parameters filled with a placeholder because the spec
    /// gives no example, default or enum value.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub placeholders: Vec<String>,
    /// Request headers a page calling it sends that need a preflight
    /// (declared header parameters, a JSON `Content-Type`, the auth header),
    /// lowercase and sorted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub request_headers: Vec<String>,
    /// Whether the spec says it needs authentication.
    pub needs_auth: bool,
    /// The line of the operation in the spec file (1-based), when found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
}

impl Operation {
    /// `GET /users/{id}`.
    pub fn label(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Content types a form or `fetch()` can send without a preflight.
const SIMPLE_TYPES: [&str; 3] = [
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "text/plain",
];

/// Reads the operations of `text`; `server` overrides the spec's own.
///
/// # Errors
/// When the text is not an API description or names no usable server.
pub fn operations(text: &str, server: Option<&str>) -> Result<Vec<Operation>, String> {
    let spec: Value = serde_norway::from_str(text).map_err(|e| format!("not YAML or JSON: {e}"))?;
    let swagger2 = spec.get("swagger").is_some();
    if !swagger2 && spec.get("openapi").is_none() {
        return Err("neither an `openapi` (3.x) nor a `swagger` (2.0) document".into());
    }
    let base = match server {
        Some(s) => s.trim_end_matches('/').to_string(),
        None => spec_server(&spec, swagger2)?,
    };
    if !(base.starts_with("http://") || base.starts_with("https://")) {
        return Err(format!(
            "the spec's server `{base}` is not an absolute http(s) URL: give --server https://HOST"
        ));
    }
    let schemes = security_headers(&spec, swagger2);
    let root_security = spec.get("security");
    let paths = spec
        .get("paths")
        .and_then(Value::as_object)
        .ok_or("the spec has no `paths`")?;
    let mut out = Vec::new();
    for (path, item) in paths {
        let shared_params = item.get("parameters").cloned().unwrap_or(Value::Null);
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let mut params: Vec<Value> = list(&shared_params);
            for p in list(op.get("parameters").unwrap_or(&Value::Null)) {
                params.retain(|q| {
                    resolve(&spec, q).get("name") != resolve(&spec, &p).get("name")
                        || resolve(&spec, q).get("in") != resolve(&spec, &p).get("in")
                });
                params.push(p);
            }
            let mut filled_path = path.clone();
            let mut query = Vec::new();
            let mut headers = Vec::new();
            let mut placeholders = Vec::new();
            for p in &params {
                let p = resolve(&spec, p);
                let (Some(name), Some(place)) = (
                    p.get("name").and_then(Value::as_str),
                    p.get("in").and_then(Value::as_str),
                ) else {
                    continue;
                };
                let required = p.get("required").and_then(Value::as_bool).unwrap_or(false);
                match place {
                    "path" => {
                        let value = example(&spec, &p).unwrap_or_else(|| {
                            placeholders.push(name.to_string());
                            placeholder(&spec, &p)
                        });
                        filled_path = filled_path.replace(&format!("{{{name}}}"), &encode(&value));
                    }
                    "query" if required => {
                        let value = example(&spec, &p).unwrap_or_else(|| {
                            placeholders.push(name.to_string());
                            placeholder(&spec, &p)
                        });
                        query.push(format!("{}={}", encode(name), encode(&value)));
                    }
                    "header" => headers.push(name.to_ascii_lowercase()),
                    _ => {}
                }
            }
            if let Some(ct) = body_type(op, swagger2, &spec) {
                if !SIMPLE_TYPES.contains(&ct.as_str()) {
                    headers.push("content-type".into());
                }
            }
            let security = op.get("security").or(root_security);
            let needs_auth = security.and_then(Value::as_array).is_some_and(|reqs| {
                !reqs.is_empty()
                    && reqs
                        .iter()
                        .all(|r| r.as_object().is_some_and(|o| !o.is_empty()))
            });
            if needs_auth {
                if let Some(reqs) = security.and_then(Value::as_array) {
                    if let Some(first) = reqs.first().and_then(Value::as_object) {
                        for scheme in first.keys() {
                            if let Some(h) = schemes.iter().find(|(n, _)| n == scheme) {
                                headers.push(h.1.clone());
                            }
                        }
                    }
                }
            }
            headers.sort();
            headers.dedup();
            // Headers every browser request may carry need no preflight.
            headers.retain(|h| {
                !matches!(
                    h.as_str(),
                    "accept" | "accept-language" | "content-language"
                )
            });
            let mut url = format!("{base}{filled_path}");
            if !query.is_empty() {
                url.push('?');
                url.push_str(&query.join("&"));
            }
            out.push(Operation {
                method: method.to_ascii_uppercase(),
                path: path.clone(),
                operation_id: op
                    .get("operationId")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                url,
                placeholders,
                request_headers: headers,
                needs_auth,
                line: line_of(text, path, method),
            });
        }
    }
    if out.is_empty() {
        return Err("the spec has no operations under `paths`".into());
    }
    // In the spec's order (the parsed map is sorted by key).
    out.sort_by_key(|op| (op.line.unwrap_or(usize::MAX), op.label()));
    Ok(out)
}

fn list(v: &Value) -> Vec<Value> {
    v.as_array().cloned().unwrap_or_default()
}

/// Follows a local `$ref` (`#/components/parameters/Id`).
fn resolve(spec: &Value, v: &Value) -> Value {
    let mut current = v.clone();
    for _ in 0..8 {
        let Some(r) = current.get("$ref").and_then(Value::as_str) else {
            return current;
        };
        let Some(pointer) = r.strip_prefix('#') else {
            return current;
        };
        match spec.pointer(pointer) {
            Some(target) => current = target.clone(),
            None => return current,
        }
    }
    current
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A value the spec gives for a parameter: `example`, the first of
/// `examples`, the schema's `example`, `default` or first `enum`.
fn example(spec: &Value, p: &Value) -> Option<String> {
    let schema = resolve(spec, p.get("schema").unwrap_or(p));
    p.get("example")
        .and_then(scalar)
        .or_else(|| {
            p.get("examples")
                .and_then(Value::as_object)
                .and_then(|m| m.values().next())
                .map(|e| resolve(spec, e))
                .and_then(|e| e.get("value").and_then(scalar))
        })
        .or_else(|| schema.get("example").and_then(scalar))
        .or_else(|| schema.get("default").and_then(scalar))
        .or_else(|| schema.get("enum").and_then(|e| e.get(0)).and_then(scalar))
}

/// A value of the parameter's type when the spec gives none.
fn placeholder(spec: &Value, p: &Value) -> String {
    let schema = resolve(spec, p.get("schema").unwrap_or(p));
    match schema.get("type").and_then(Value::as_str) {
        Some("integer" | "number") => "1".into(),
        Some("boolean") => "true".into(),
        _ => "corsair".into(),
    }
}

/// Percent-encodes what is not unreserved (RFC 3986 §2.3).
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The request body's first content type.
fn body_type(op: &Value, swagger2: bool, spec: &Value) -> Option<String> {
    if swagger2 {
        let has_body = list(op.get("parameters").unwrap_or(&Value::Null))
            .iter()
            .any(|p| resolve(spec, p).get("in").and_then(Value::as_str) == Some("body"));
        let consumes = op.get("consumes").or(spec.get("consumes"));
        return has_body.then(|| {
            consumes
                .and_then(|c| c.get(0))
                .and_then(Value::as_str)
                .unwrap_or("application/json")
                .to_ascii_lowercase()
        });
    }
    let body = resolve(spec, op.get("requestBody")?);
    body.get("content")
        .and_then(Value::as_object)
        .and_then(|c| c.keys().next())
        .map(|k| k.to_ascii_lowercase())
}

/// Security scheme name → the request header it sends.
fn security_headers(spec: &Value, swagger2: bool) -> Vec<(String, String)> {
    let schemes = if swagger2 {
        spec.get("securityDefinitions")
    } else {
        spec.pointer("/components/securitySchemes")
    };
    let Some(schemes) = schemes.and_then(Value::as_object) else {
        return Vec::new();
    };
    schemes
        .iter()
        .filter_map(|(name, s)| {
            let s = resolve(spec, s);
            let kind = s.get("type").and_then(Value::as_str)?;
            let header = match kind {
                "apiKey" if s.get("in").and_then(Value::as_str) == Some("header") => {
                    s.get("name").and_then(Value::as_str)?.to_ascii_lowercase()
                }
                "http" | "basic" | "oauth2" | "openIdConnect" => "authorization".into(),
                _ => return None,
            };
            Some((name.clone(), header))
        })
        .collect()
}

/// The spec's server: OpenAPI 3's first `servers` entry with its variables'
/// defaults, or Swagger 2's `schemes`, `host` and `basePath`.
fn spec_server(spec: &Value, swagger2: bool) -> Result<String, String> {
    if swagger2 {
        let host = spec
            .get("host")
            .and_then(Value::as_str)
            .ok_or("the spec has no `host`: give --server https://HOST")?;
        let scheme = spec
            .get("schemes")
            .and_then(|s| s.get(0))
            .and_then(Value::as_str)
            .unwrap_or("https");
        let base = spec.get("basePath").and_then(Value::as_str).unwrap_or("");
        return Ok(format!("{scheme}://{host}{}", base.trim_end_matches('/')));
    }
    let server = spec
        .get("servers")
        .and_then(|s| s.get(0))
        .ok_or("the spec has no `servers`: give --server https://HOST")?;
    let mut url = server
        .get("url")
        .and_then(Value::as_str)
        .ok_or("the spec's first server has no `url`: give --server https://HOST")?
        .to_string();
    if let Some(vars) = server.get("variables").and_then(Value::as_object) {
        for (name, v) in vars {
            if let Some(d) = v.get("default").and_then(scalar) {
                url = url.replace(&format!("{{{name}}}"), &d);
            }
        }
    }
    Ok(url.trim_end_matches('/').to_string())
}

/// The line of `method:` (YAML) or `"method"` (JSON) under the path's key.
fn line_of(text: &str, path: &str, method: &str) -> Option<usize> {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.iter().position(|l| {
        let t = l.trim_start();
        t.starts_with(&format!("{path}:"))
            || t.starts_with(&format!("'{path}':"))
            || t.starts_with(&format!("\"{path}\":"))
            || t.starts_with(&format!("\"{path}\" :"))
    })?;
    let indent = lines[start].len() - lines[start].trim_start().len();
    for (i, l) in lines.iter().enumerate().skip(start + 1) {
        let t = l.trim_start();
        if t.is_empty() {
            continue;
        }
        let this = l.len() - t.len();
        if this <= indent && !t.starts_with('}') && !text.trim_start().starts_with('{') {
            return None;
        }
        if t.starts_with(&format!("{method}:")) || t.starts_with(&format!("\"{method}\"")) {
            return Some(i + 1);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str = "openapi: 3.1.0
servers:
  - url: https://{env}.example.com/v1
    variables:
      env: {default: api}
components:
  parameters:
    Id: {name: id, in: path, required: true, schema: {type: integer, example: 42}}
  securitySchemes:
    key: {type: apiKey, in: header, name: X-Api-Key}
paths:
  /users/{id}:
    parameters:
      - $ref: '#/components/parameters/Id'
    get:
      operationId: getUser
      responses: {'200': {description: ok}}
    put:
      security: [{key: []}]
      parameters:
        - {name: X-Request-Id, in: header, schema: {type: string}}
      requestBody: {content: {application/json: {schema: {type: object}}}}
      responses: {'200': {description: ok}}
  /search:
    get:
      parameters:
        - {name: q, in: query, required: true, schema: {type: string}}
      responses: {'200': {description: ok}}
";

    #[test]
    fn operations_with_filled_paths_headers_and_lines() {
        let ops = operations(SPEC, None).unwrap();
        assert_eq!(ops.len(), 3);
        let get = &ops[0];
        assert_eq!(get.label(), "GET /users/{id}");
        assert_eq!(get.url, "https://api.example.com/v1/users/42");
        assert_eq!(get.operation_id.as_deref(), Some("getUser"));
        assert!(get.request_headers.is_empty() && !get.needs_auth);
        assert_eq!(get.line, Some(15));
        let put = &ops[1];
        assert_eq!(
            put.request_headers,
            ["content-type", "x-api-key", "x-request-id"]
        );
        assert!(put.needs_auth);
        let search = &ops[2];
        assert_eq!(search.url, "https://api.example.com/v1/search?q=corsair");
        assert_eq!(search.placeholders, ["q"]);
        let over = operations(SPEC, Some("http://127.0.0.1:8080/")).unwrap();
        assert_eq!(over[0].url, "http://127.0.0.1:8080/users/42");
    }

    #[test]
    fn swagger_2_and_errors() {
        let spec = r#"{"swagger": "2.0", "host": "api.example.com", "basePath": "/v2", "schemes": ["https"],
          "paths": {"/pets": {"post": {"parameters": [{"name": "body", "in": "body", "schema": {}}], "responses": {}}}}}"#;
        let ops = operations(spec, None).unwrap();
        assert_eq!(ops[0].url, "https://api.example.com/v2/pets");
        assert_eq!(ops[0].request_headers, ["content-type"]);
        assert!(operations("openapi: 3.0.0\npaths: {}\n", Some("http://x")).is_err());
        assert!(operations("hello: world\n", None)
            .unwrap_err()
            .contains("openapi"));
        let relative = "openapi: 3.0.0\nservers: [{url: /v1}]\npaths: {/a: {get: {}}}\n";
        assert!(operations(relative, None).unwrap_err().contains("--server"));
    }
}
