//! What a scenario did in the browser ([`Observation`]), the interface a
//! prediction plugs into ([`Predictor`]), and the comparison that turns
//! both into agreements and printed disagreements ([`Tally`]).

use serde::{Deserialize, Serialize};

use crate::scenario::{Env, Scenario, Server};

/// One request a scenario server received (preflights included), in
/// arrival order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeenRequest {
    /// The server that received it.
    pub server: Server,
    /// The hop `k` of the path `/s/<id>/h<k>`.
    pub hop: usize,
    /// The method on the wire (`patch` stays lowercase).
    pub method: String,
    /// `OPTIONS` with `Access-Control-Request-Method`.
    pub preflight: bool,
    /// The `Origin` header, symbolized (`{page}`, `null`, ...); `None` when absent.
    pub origin: Option<String>,
    /// `Access-Control-Request-Method`.
    pub acrm: Option<String>,
    /// `Access-Control-Request-Headers`.
    pub acrh: Option<String>,
    /// Whether a `Cookie` header was sent.
    pub cookie: bool,
}

/// What the page's script saw, and what the servers received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observation {
    /// `fetch()` resolved (true) or rejected with a `TypeError` (false).
    pub allowed: bool,
    /// `response.status` when allowed.
    pub status: Option<u16>,
    /// `response.type` when allowed (`basic` or `cors`).
    pub response_type: Option<String>,
    /// `response.redirected` when allowed.
    pub redirected: Option<bool>,
    /// The header names the script can read by iterating `response.headers`
    /// (lowercase, sorted); empty when blocked.
    pub readable_headers: Vec<String>,
    /// Every request the servers received for this scenario.
    pub requests: Vec<SeenRequest>,
    /// The browser's console errors for this scenario, symbolized, in order.
    pub console: Vec<String>,
}

impl Observation {
    /// The first preflight sent, if any.
    pub fn preflight(&self) -> Option<&SeenRequest> {
        self.requests.iter().find(|r| r.preflight)
    }

    /// The requests that are not preflights.
    pub fn actual_requests(&self) -> impl Iterator<Item = &SeenRequest> {
        self.requests.iter().filter(|r| !r.preflight)
    }

    /// The CORS error line (`Access to fetch at ... blocked by CORS policy: ...`), if any.
    pub fn cors_error(&self) -> Option<&str> {
        self.console.iter().map(String::as_str).find(|m| {
            m.contains("blocked by CORS policy") || m.starts_with("Cross-Origin Request Blocked")
        })
    }
}

/// Observations recorded in a run: the browser version and `(id, observation)`
/// per scenario, as in `scenarios/chromium-observations.jsonl`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recorded {
    /// The engine, lowercase (`chromium`, `firefox`).
    pub engine: String,
    /// The browser's version.
    pub browser: String,
    /// Scenario id and observation, in catalogue order.
    pub observations: Vec<(String, Observation)>,
}

impl Recorded {
    /// Parses the JSON-lines format: `{"<engine>": version}` then
    /// `{"id", "observation"}` per line.
    pub fn from_jsonl(text: &str) -> Result<Recorded, String> {
        #[derive(Deserialize)]
        struct Line {
            id: String,
            observation: Observation,
        }
        let mut lines = text.lines().filter(|l| !l.trim().is_empty());
        let head: std::collections::BTreeMap<String, String> =
            serde_json::from_str(lines.next().ok_or("empty file")?)
                .map_err(|e| format!("line 1: {e}"))?;
        let Some((engine, version)) = head.into_iter().next() else {
            return Err("line 1: no engine and version".into());
        };
        let mut observations = Vec::new();
        for (i, line) in lines.enumerate() {
            let l: Line = serde_json::from_str(line).map_err(|e| format!("line {}: {e}", i + 2))?;
            observations.push((l.id, l.observation));
        }
        Ok(Recorded {
            engine,
            browser: version,
            observations,
        })
    }

    /// The JSON-lines text.
    pub fn to_jsonl(&self) -> String {
        let head = serde_json::json!({ self.engine.clone(): self.browser });
        let mut text = format!("{head}\n");
        for (id, o) in &self.observations {
            text.push_str(&serde_json::json!({ "id": id, "observation": o }).to_string());
            text.push('\n');
        }
        text
    }
}

/// Something that predicts what a browser does with a scenario: the browser
/// model (`corsair::browser`) plugs in here with a small adapter that drives
/// the model with [`Scenario::answer`] for every request it decides to make.
pub trait Predictor {
    /// A name for reports, e.g. `corsair::browser (chromium profile)`.
    fn name(&self) -> &str;

    /// The predicted observation. Origins and URLs must be symbolized with
    /// [`Env::symbolize`] (`{page}`, `{cross}`, `{cross-host}`), exactly as
    /// the harness records Chromium.
    fn predict(&self, scenario: &Scenario, env: &Env) -> Observation;

    /// Whether [`Observation::console`] is predicted too; when false the
    /// console messages are not compared.
    fn predicts_console(&self) -> bool {
        false
    }

    /// Whether the console of this one scenario is compared; by default
    /// [`Predictor::predicts_console`]. A predictor that predicts the
    /// console may leave out a class of messages it cannot predict exactly
    /// (and must say which in its documentation); everything else is still
    /// compared.
    fn predicts_console_of(&self, scenario: &Scenario, env: &Env) -> bool {
        let _ = (scenario, env);
        self.predicts_console()
    }
}

/// The fields where two observations differ, as readable lines; empty when
/// they agree. `console` is compared only when `with_console`.
pub fn differences(
    predicted: &Observation,
    observed: &Observation,
    with_console: bool,
) -> Vec<String> {
    let mut out = Vec::new();
    let mut field = |name: &str, p: String, o: String| {
        if p != o {
            out.push(format!("  {name}:\n    predicted: {p}\n    observed:  {o}"));
        }
    };
    field(
        "allowed",
        predicted.allowed.to_string(),
        observed.allowed.to_string(),
    );
    field(
        "status",
        format!("{:?}", predicted.status),
        format!("{:?}", observed.status),
    );
    field(
        "response type",
        format!("{:?}", predicted.response_type),
        format!("{:?}", observed.response_type),
    );
    field(
        "redirected",
        format!("{:?}", predicted.redirected),
        format!("{:?}", observed.redirected),
    );
    field(
        "readable headers",
        format!("{:?}", predicted.readable_headers),
        format!("{:?}", observed.readable_headers),
    );
    let requests = |r: &[SeenRequest]| {
        r.iter()
            .map(describe_request)
            .collect::<Vec<_>>()
            .join(" | ")
    };
    field(
        "requests",
        requests(&predicted.requests),
        requests(&observed.requests),
    );
    if with_console {
        field(
            "console",
            format!("{:?}", predicted.console),
            format!("{:?}", observed.console),
        );
    }
    out
}

/// One request as one short line: `cross h0 OPTIONS origin={page} acrm=PUT acrh=x-a cookie`.
pub fn describe_request(r: &SeenRequest) -> String {
    let mut s = format!(
        "{} h{} {}{}",
        r.server.label(),
        r.hop,
        r.method,
        if r.preflight { " (preflight)" } else { "" }
    );
    match &r.origin {
        Some(o) => s.push_str(&format!(" origin={o}")),
        None => s.push_str(" no-origin"),
    }
    if let Some(m) = &r.acrm {
        s.push_str(&format!(" acrm={m}"));
    }
    if let Some(h) = &r.acrh {
        s.push_str(&format!(" acrh={h}"));
    }
    if r.cookie {
        s.push_str(" cookie");
    }
    s
}

/// Counts agreements and keeps a report for each disagreement.
#[derive(Debug, Default)]
pub struct Tally {
    /// Scenarios where the prediction matched Chromium.
    pub agree: usize,
    /// One report per disagreeing scenario.
    pub disagreements: Vec<String>,
}

impl Tally {
    /// Records one scenario: `problems` empty means agreement.
    pub fn record(&mut self, id: &str, context: &str, problems: Vec<String>) {
        if problems.is_empty() {
            self.agree += 1;
        } else {
            self.disagreements.push(format!(
                "scenario {id} ({context}):\n{}",
                problems.join("\n")
            ));
        }
    }

    /// Adds another tally's counts and reports.
    pub fn merge(&mut self, other: Tally) {
        self.agree += other.agree;
        self.disagreements.extend(other.disagreements);
    }

    /// The summary line: `N scenarios agree with <engine>, M disagree`.
    pub fn summary_line(&self, engine: &str) -> String {
        format!(
            "{} scenarios agree with {engine}, {} disagree",
            self.agree,
            self.disagreements.len()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed() -> Observation {
        Observation {
            allowed: true,
            status: Some(200),
            response_type: Some("cors".into()),
            redirected: Some(false),
            readable_headers: vec!["content-length".into()],
            requests: vec![SeenRequest {
                server: Server::Cross,
                hop: 0,
                method: "GET".into(),
                preflight: false,
                origin: Some("{page}".into()),
                acrm: None,
                acrh: None,
                cookie: false,
            }],
            console: vec![],
        }
    }

    #[test]
    fn every_field_is_compared_and_console_only_on_request() {
        let a = allowed();
        assert!(differences(&a, &a, true).is_empty());
        let mut b = a.clone();
        b.allowed = false;
        b.status = None;
        let d = differences(&a, &b, false);
        assert_eq!(d.len(), 2, "{d:?}");
        assert!(d[0].contains("predicted: true") && d[0].contains("observed:  false"));
        let mut c = a.clone();
        c.requests[0].origin = Some("null".into());
        assert_eq!(differences(&a, &c, false).len(), 1);
        let mut e = a.clone();
        e.readable_headers.push("x-custom".into());
        assert_eq!(differences(&a, &e, false).len(), 1);
        let mut f = a.clone();
        f.console.push("blocked".into());
        assert!(differences(&a, &f, false).is_empty());
        assert_eq!(differences(&a, &f, true).len(), 1);
    }

    #[test]
    fn the_tally_counts_and_prints_the_summary_line() {
        let mut t = Tally::default();
        t.record("a", "x", vec![]);
        t.record("b", "x", vec!["  allowed: ...".into()]);
        let mut u = Tally::default();
        u.record("c", "y", vec![]);
        t.merge(u);
        assert_eq!(
            t.summary_line("Firefox"),
            "2 scenarios agree with Firefox, 1 disagree"
        );
        assert!(t.disagreements[0].starts_with("scenario b (x):"));
    }
}
