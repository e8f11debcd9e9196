//! What a scenario is: a request made by a page's script and the answers the
//! scenario servers give to it, as data (TOML or JSON).
//!
//! Three servers take part, each its own origin on loopback:
//! - `page`: `http://127.0.0.1:<p0>`, serves the blank page the script runs in;
//! - `cross`: `http://127.0.0.1:<p1>`, same site as the page, another origin;
//! - `cross-host`: `http://localhost:<p2>`, another site.
//!
//! Every server answers `/s/<id>/h<k>` for scenario `<id>`: `OPTIONS` gets
//! [`Scenario::preflight`], other methods get redirect `k` of
//! [`Scenario::redirects`] while there is one, then [`Scenario::response`].
//! In header values, `{origin}` is the request's `Origin` header as received
//! (the page origin when there is none) and `{page}`, `{cross}`,
//! `{cross-host}` are the servers' origins.

use serde::{Deserialize, Serialize};

/// One of the three scenario servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Server {
    /// The page's own origin.
    Page,
    /// Another port on the page's host: cross-origin, same-site.
    Cross,
    /// `localhost`: cross-origin and cross-site.
    CrossHost,
}

impl Server {
    /// All servers, in a fixed order.
    pub const ALL: [Server; 3] = [Server::Page, Server::Cross, Server::CrossHost];

    /// `page`, `cross` or `cross-host`.
    pub fn label(self) -> &'static str {
        match self {
            Server::Page => "page",
            Server::Cross => "cross",
            Server::CrossHost => "cross-host",
        }
    }
}

/// The fetch `credentials` mode.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Credentials {
    /// `omit`.
    Omit,
    /// `same-origin` (fetch's default).
    #[default]
    SameOrigin,
    /// `include`.
    Include,
}

impl Credentials {
    /// The value for `fetch(url, {credentials})`.
    pub fn as_str(self) -> &'static str {
        match self {
            Credentials::Omit => "omit",
            Credentials::SameOrigin => "same-origin",
            Credentials::Include => "include",
        }
    }
}

impl From<Credentials> for corsair::browser::Credentials {
    fn from(c: Credentials) -> Self {
        match c {
            Credentials::Omit => Self::Omit,
            Credentials::SameOrigin => Self::SameOrigin,
            Credentials::Include => Self::Include,
        }
    }
}

/// A header as a `[name, value]` pair (order and duplicates are kept:
/// two `access-control-allow-origin` pairs are sent as two lines).
pub type HeaderPair = (String, String);

/// The script's `fetch()` call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestSpec {
    /// The server the request goes to first.
    pub target: Server,
    /// The method exactly as the script writes it (`patch` stays lowercase
    /// on the wire; `put` is normalized to `PUT` by the browser).
    pub method: String,
    /// Request headers set by the script, in order.
    #[serde(default)]
    pub headers: Vec<HeaderPair>,
    /// The credentials mode.
    #[serde(default)]
    pub credentials: Credentials,
    /// A request body, for methods that allow one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

/// A status and headers a server answers with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponseSpec {
    /// The status code. A 3xx preflight answer needs a `location` header.
    pub status: u16,
    /// Headers, with `{origin}`, `{page}`, `{cross}`, `{cross-host}` placeholders.
    #[serde(default)]
    pub headers: Vec<HeaderPair>,
}

/// Where a redirect points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RedirectTarget {
    /// The next hop on the page's origin.
    Page,
    /// The next hop on `cross`.
    Cross,
    /// The next hop on `cross-host`.
    CrossHost,
    /// The next hop on `cross`, with `user:pass@` in the URL.
    CrossUserinfo,
}

impl RedirectTarget {
    /// The server the redirect points to.
    pub fn server(self) -> Server {
        match self {
            RedirectTarget::Page => Server::Page,
            RedirectTarget::Cross | RedirectTarget::CrossUserinfo => Server::Cross,
            RedirectTarget::CrossHost => Server::CrossHost,
        }
    }
}

/// One redirect of the actual request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Redirect {
    /// 301, 302, 303, 307 or 308.
    pub status: u16,
    /// Where the `Location` header points (the next hop of this scenario).
    pub to: RedirectTarget,
    /// Extra headers on the redirect response (CORS headers: a redirect
    /// response is CORS-checked too).
    #[serde(default)]
    pub headers: Vec<HeaderPair>,
}

/// One scenario: a request and every answer to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Unique, URL-safe (`[a-z0-9-]`): the path is `/s/<id>/h<k>`.
    pub id: String,
    /// What the scenario checks, for humans.
    #[serde(default)]
    pub note: String,
    /// The script's request.
    pub request: RequestSpec,
    /// The answer to every `OPTIONS` request (the preflight); without it
    /// the server answers `OPTIONS` with 404 and no headers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preflight: Option<ResponseSpec>,
    /// Redirects of the actual request, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redirects: Vec<Redirect>,
    /// The final answer to the actual request.
    pub response: ResponseSpec,
}

/// The header every scenario response carries besides its own, so no
/// answer is ever reused from the HTTP cache.
pub const NO_STORE: (&str, &str) = ("cache-control", "no-store");

/// The body of every actual (non-redirect, non-preflight) response.
pub const BODY: &str = "ok";

/// The concrete origins of one run, to expand placeholders and to turn
/// observed values back into the symbolic `{page}` / `{cross}` / `{cross-host}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Env {
    /// `http://127.0.0.1:<p0>`.
    pub page: String,
    /// `http://127.0.0.1:<p1>`.
    pub cross: String,
    /// `http://localhost:<p2>`.
    pub cross_host: String,
}

impl Env {
    /// The origin of a server.
    pub fn origin(&self, server: Server) -> &str {
        match server {
            Server::Page => &self.page,
            Server::Cross => &self.cross,
            Server::CrossHost => &self.cross_host,
        }
    }

    /// Which server an origin (`scheme://host:port`) belongs to.
    pub fn server_of(&self, origin: &str) -> Option<Server> {
        Server::ALL.into_iter().find(|s| self.origin(*s) == origin)
    }

    /// Replaces the placeholders of a header value.
    pub fn expand(&self, value: &str, request_origin: Option<&str>) -> String {
        value
            .replace("{origin}", request_origin.unwrap_or(&self.page))
            .replace("{page}", &self.page)
            .replace("{cross-host}", &self.cross_host)
            .replace("{cross}", &self.cross)
    }

    /// Replaces concrete origins in a text by their placeholders (the
    /// inverse of [`Env::expand`] for origins), so observations do not
    /// depend on ports.
    pub fn symbolize(&self, text: &str) -> String {
        let userinfo = self.cross.replacen("http://", "http://user:pass@", 1);
        text.replace(&userinfo, "{cross-userinfo}")
            .replace(&self.cross_host, "{cross-host}")
            .replace(&self.cross, "{cross}")
            .replace(&self.page, "{page}")
    }

    /// The URL of hop `hop` of a scenario on a redirect target.
    pub fn hop_url(&self, scenario: &str, hop: usize, to: RedirectTarget) -> String {
        let base = match to {
            RedirectTarget::CrossUserinfo => self.cross.replacen("http://", "http://user:pass@", 1),
            other => self.origin(other.server()).to_string(),
        };
        format!("{base}/s/{scenario}/h{hop}")
    }

    /// The URL the script fetches.
    pub fn start_url(&self, scenario: &Scenario) -> String {
        format!(
            "{}/s/{}/h0",
            self.origin(scenario.request.target),
            scenario.id
        )
    }
}

/// What a server answers: the status and the headers exactly as sent
/// (besides `content-length`, which hyper adds for the body, and nothing
/// else: no `date`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WireResponse {
    /// The status code.
    pub status: u16,
    /// Headers in order.
    pub headers: Vec<HeaderPair>,
    /// The body.
    pub body: &'static str,
}

impl Scenario {
    /// Whether the id is usable in a path.
    pub fn has_valid_id(&self) -> bool {
        !self.id.is_empty()
            && self
                .id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    }

    /// The answer to a request for hop `hop` with this method and `Origin`:
    /// the single source of truth for both the scenario servers and a
    /// model's adapter.
    pub fn answer(
        &self,
        env: &Env,
        method: &str,
        hop: usize,
        request_origin: Option<&str>,
    ) -> WireResponse {
        let expand = |pairs: &[HeaderPair]| -> Vec<HeaderPair> {
            let mut out: Vec<HeaderPair> = pairs
                .iter()
                .map(|(n, v)| (n.clone(), env.expand(v, request_origin)))
                .collect();
            out.push((NO_STORE.0.into(), NO_STORE.1.into()));
            out
        };
        if method == "OPTIONS" {
            return match &self.preflight {
                Some(p) => WireResponse {
                    status: p.status,
                    headers: expand(&p.headers),
                    body: "",
                },
                None => WireResponse {
                    status: 404,
                    headers: expand(&[]),
                    body: "",
                },
            };
        }
        if let Some(redirect) = self.redirects.get(hop) {
            let mut headers = expand(&redirect.headers);
            headers.push((
                "location".into(),
                env.hop_url(&self.id, hop + 1, redirect.to),
            ));
            return WireResponse {
                status: redirect.status,
                headers,
                body: "",
            };
        }
        WireResponse {
            status: self.response.status,
            headers: expand(&self.response.headers),
            body: BODY,
        }
    }
}

/// A list of scenarios in a TOML file: `[[scenario]]` tables.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalogue {
    /// The scenarios, in order.
    #[serde(default)]
    pub scenario: Vec<Scenario>,
}

impl Catalogue {
    /// Parses a catalogue and checks that ids are valid and unique.
    pub fn from_toml(text: &str) -> Result<Catalogue, String> {
        let catalogue: Catalogue = toml::from_str(text).map_err(|e| e.to_string())?;
        catalogue.check()?;
        Ok(catalogue)
    }

    /// Checks that ids are valid and unique.
    pub fn check(&self) -> Result<(), String> {
        let mut seen = std::collections::HashSet::new();
        for s in &self.scenario {
            if !s.has_valid_id() {
                return Err(format!("scenario id `{}` is not [a-z0-9-]+", s.id));
            }
            if !seen.insert(s.id.as_str()) {
                return Err(format!("scenario id `{}` is used twice", s.id));
            }
        }
        Ok(())
    }

    /// The catalogue as TOML.
    pub fn to_toml(&self) -> Result<String, String> {
        toml::to_string(self).map_err(|e| e.to_string())
    }
}
