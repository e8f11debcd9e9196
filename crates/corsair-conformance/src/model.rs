//! Where the browser model plugs in.
//!
//! [`browser_model`] returns the [`Predictor`] the suite compares Chromium
//! with: [`ModelPredictor`], which drives `corsair::browser` (Chromium
//! profile) with the request of [`Scenario::request`] and, for every
//! request the model decides to send, the answer of [`Scenario::answer`]
//! (the exact status and headers the scenario servers send, plus the
//! `content-length` hyper adds), and returns the [`Observation`] the model
//! predicts, symbolized with [`Env::symbolize`].
//!
//! The adapter only translates: every decision (preflight or not, the
//! `Origin` of each hop, cookies, the CORS checks, readable headers,
//! console lines) is the model's. What it derives itself is what the lab
//! derives from the wire too: the server and hop of a request from its URL,
//! and whether a cookie goes out (the model says whether credentials are
//! included; the page's cookie exists on host `127.0.0.1` only).

use corsair::browser::{Browser, BrowserRequest, CorsErrorKind, Outcome, Profile, Step};
use corsair::Origin;

use crate::observation::{Observation, Predictor, SeenRequest};
use crate::scenario::{Env, Scenario};

/// The browser model's predictor, when there is one.
pub fn browser_model() -> Option<Box<dyn Predictor>> {
    Some(Box::new(ModelPredictor::new(Profile::Chromium)))
}

/// A redirect chain longer than this is a model bug (Fetch stops at 20);
/// the adapter gives up instead of looping.
const MAX_STEPS: usize = 64;

/// The host the page's cookie (`corsair=1`, set by the `page` server) is
/// stored for: `page` and `cross` share it, `cross-host` (`localhost`)
/// does not.
const COOKIE_HOST: &str = "127.0.0.1";

/// Predicts observations with `corsair::browser` under one profile.
#[derive(Debug, Clone)]
pub struct ModelPredictor {
    profile: Profile,
    name: String,
}

impl ModelPredictor {
    /// A predictor for `profile` (the suite uses [`Profile::Chromium`]).
    pub fn new(profile: Profile) -> Self {
        ModelPredictor {
            profile,
            name: format!("corsair::browser ({} profile)", profile.name()),
        }
    }
}

impl Predictor for ModelPredictor {
    fn name(&self) -> &str {
        &self.name
    }

    fn predict(&self, scenario: &Scenario, env: &Env) -> Observation {
        predict(self.profile, scenario, env)
    }

    fn predicts_console(&self) -> bool {
        true
    }

    /// Every console line is compared except one class: a preflight that
    /// does not allow several of the request's headers. Chromium names the
    /// first in its own header-map order (a hash map in Blink), which the
    /// model does not reproduce; it names the first Fetch checks (see
    /// `corsair::browser::Profile::wildcard_covers_authorization`). The
    /// verdict, the requests and every other field are still compared;
    /// only `console` is skipped there.
    fn predicts_console_of(&self, scenario: &Scenario, env: &Env) -> bool {
        // WebDriver gives no console log for WebKitGTK: nothing to compare.
        if self.profile == Profile::Webkit {
            return false;
        }
        let (_, outcome) = run(self.profile, scenario, env);
        let several_headers_refused = outcome.and_then(|o| o.error).is_some_and(|e| match e.kind {
            CorsErrorKind::HeaderNotAllowed { disallowed, .. } => disallowed.len() > 1,
            _ => false,
        });
        !several_headers_refused
    }
}

/// A blocked fetch that never reached the network (a `TypeError` from the
/// `Request` constructor, or an environment the adapter cannot express).
fn rejected(requests: Vec<SeenRequest>, console: Vec<String>) -> Observation {
    Observation {
        allowed: false,
        status: None,
        response_type: None,
        redirected: None,
        readable_headers: Vec::new(),
        requests,
        console,
    }
}

/// Runs the model on one scenario and returns the observation it predicts.
pub fn predict(profile: Profile, scenario: &Scenario, env: &Env) -> Observation {
    run(profile, scenario, env).0
}

/// Runs the model on one scenario: the predicted observation and the
/// model's outcome (`None` when the flow never finished: a `TypeError`
/// before sending, or a request to no scenario server).
fn run(profile: Profile, scenario: &Scenario, env: &Env) -> (Observation, Option<Box<Outcome>>) {
    let Ok(page) = Origin::parse(&env.page) else {
        return (rejected(Vec::new(), Vec::new()), None);
    };
    let spec = &scenario.request;
    let headers: Vec<(&str, &[u8])> = spec
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_bytes()))
        .collect();
    let request = match BrowserRequest::new(
        page,
        &env.start_url(scenario),
        &spec.method,
        headers,
        spec.credentials.into(),
    ) {
        Ok(r) => r,
        // fetch() rejects before sending anything; a caught TypeError
        // logs nothing.
        Err(_) => return (rejected(Vec::new(), Vec::new()), None),
    };
    let mut browser = Browser::new(profile);
    let mut flow = browser.start(request);
    let mut left_the_site = false;
    let mut requests = Vec::new();
    let mut step = flow.next_step();
    for _ in 0..MAX_STEPS {
        let (sent, preflight) = match step {
            Step::SendPreflight(r) => (r, true),
            Step::SendActual(r) => (r, false),
            Step::Done(outcome) => {
                let console = outcome
                    .console_errors(profile)
                    .iter()
                    .map(|m| env.symbolize(m))
                    .collect();
                if !outcome.allowed {
                    return (rejected(requests, console), Some(outcome));
                }
                let observation = Observation {
                    allowed: true,
                    status: outcome.status,
                    response_type: Some(outcome.tainting.response_type().to_string()),
                    redirected: Some(outcome.redirects > 0),
                    readable_headers: outcome.exposed_headers.clone(),
                    requests,
                    console,
                };
                return (observation, Some(outcome));
            }
        };
        let header = |name: &str| {
            sent.headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let origin_header = header("origin");
        let url_origin = sent.url.origin().ascii_serialization();
        let Some(server) = env.server_of(&url_origin) else {
            // The model went somewhere no scenario server listens: nothing
            // Chromium could observe either; report what was sent so far.
            return (rejected(requests, Vec::new()), None);
        };
        let hop = crate::lab::hop_of(sent.url.path()).unwrap_or(usize::MAX);
        requests.push(SeenRequest {
            server,
            hop,
            method: sent.method.as_str().to_string(),
            preflight,
            origin: origin_header.as_deref().map(|o| env.symbolize(o)),
            acrm: header("access-control-request-method"),
            acrh: header("access-control-request-headers"),
            cookie: sent.include_credentials
                && sent.url.host_str() == Some(COOKIE_HOST)
                && !(profile == Profile::Firefox && left_the_site),
        });
        // The page's cookie is `SameSite=Lax`: Firefox treats a request
        // whose redirect chain went through another site as cross-site and
        // withholds it on the way back (`rd-chain-final-echo-incl`,
        // `rd-chain-final-page-incl`); Chromium judges a subresource
        // request by its own URL only.
        left_the_site |= sent.url.host_str() != Some(COOKIE_HOST);
        let answer = scenario.answer(env, sent.method.as_str(), hop, origin_header.as_deref());
        let mut map = http::HeaderMap::new();
        // Exactly what `server::response` puts on the wire: pairs that are
        // not valid header names or values are skipped.
        for (name, value) in &answer.headers {
            if let (Ok(n), Ok(v)) = (
                http::HeaderName::from_bytes(name.as_bytes()),
                http::HeaderValue::from_str(value),
            ) {
                map.append(n, v);
            }
        }
        // hyper adds `content-length` for the full body, except where a
        // body is not allowed (1xx, 204, 304).
        if !matches!(answer.status, 100..=199 | 204 | 304) {
            map.append(http::header::CONTENT_LENGTH, answer.body.len().into());
        }
        step = flow.on_response(answer.status, &map);
    }
    (rejected(requests, Vec::new()), None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::Engine;
    use crate::matrix::{load_catalogue, scenarios_dir};
    use crate::observation::{differences, Observation, Recorded, Tally};
    use crate::scenario::Scenario;

    fn env() -> Env {
        Env {
            page: "http://127.0.0.1:41001".into(),
            cross: "http://127.0.0.1:41002".into(),
            cross_host: "http://localhost:41003".into(),
        }
    }

    /// The committed observations of `engine`, with their scenarios.
    fn committed(engine: Engine) -> Vec<(Scenario, Observation)> {
        let catalogue = load_catalogue().expect("catalogue");
        let text =
            std::fs::read_to_string(scenarios_dir().join(engine.snapshot())).expect("snapshot");
        let recorded = Recorded::from_jsonl(&text).expect("snapshot parses");
        catalogue
            .scenario
            .into_iter()
            .filter_map(|s| {
                let (_, o) = recorded.observations.iter().find(|(id, _)| *id == s.id)?;
                let o = o.clone();
                Some((s, o))
            })
            .collect()
    }

    /// The model agrees with every committed observation of every engine:
    /// the offline half of the browser suite (the live half re-records
    /// them).
    #[test]
    fn the_model_predicts_every_committed_observation() {
        let env = env();
        for engine in Engine::ALL {
            let predictor = ModelPredictor::new(engine.profile());
            let mut tally = Tally::default();
            let observed = committed(engine);
            assert!(
                observed.len() > 800,
                "{}: {} observations",
                engine.name(),
                observed.len()
            );
            for (s, o) in &observed {
                let predicted = predictor.predict(s, &env);
                tally.record(
                    &s.id,
                    predictor.name(),
                    differences(&predicted, o, predictor.predicts_console_of(s, &env)),
                );
            }
            for d in &tally.disagreements {
                eprintln!("{d}");
            }
            assert!(
                tally.disagreements.is_empty(),
                "{}",
                tally.summary_line(engine.name())
            );
        }
    }

    /// `corsair explain` reads every CORS console line each engine printed
    /// in the committed observations back to the code the model gives the
    /// scenario (or, where the engine prints one message for several
    /// failures, to a list holding it).
    #[test]
    fn explain_reads_every_captured_message_to_the_scenarios_code() {
        let env = env();
        for engine in Engine::ALL.into_iter().filter(|e| e.logs_console()) {
            let mut read = 0;
            for (s, observed) in committed(engine) {
                let (_, outcome) = run(engine.profile(), &s, &env);
                let Some(error) = outcome.and_then(|o| o.error) else {
                    continue;
                };
                // The line that names the failure: Chromium's CORS line,
                // Firefox's first one (its "did not succeed" line follows
                // a preflight or redirect failure).
                let line = observed.console.iter().find(|l| {
                    l.contains("blocked by CORS policy")
                        || l.contains("net::ERR_TOO_MANY_REDIRECTS")
                        || l.starts_with("Cross-Origin Request Blocked")
                });
                let Some(line) = line else {
                    continue;
                };
                let code = error.code();
                let pasted = if line.contains("CORS request external redirect not allowed") {
                    // Firefox's redirected preflight: the line that names it
                    // is the second.
                    observed.console.get(1).unwrap_or(line)
                } else {
                    line
                };
                // As the browser printed it, before the URLs were symbolized.
                let pasted = pasted
                    .replace("{cross-host}", &env.cross_host)
                    .replace("{cross}", &env.cross)
                    .replace("{page}", &env.page);
                match corsair::browser::explain(&pasted) {
                    Ok(explained) => {
                        assert_eq!(explained.browser, engine.profile(), "{}", s.id);
                        assert!(
                            explained.error.code() == code
                                || explained.also_possible.contains(&code),
                            "{}: {pasted} read as {} (model: {code})",
                            s.id,
                            explained.error.code()
                        );
                    }
                    // Firefox's network-failure line names no CORS header:
                    // explain says so instead of guessing.
                    Err(e) => assert!(
                        engine == Engine::Firefox
                            && pasted.contains("CORS request did not succeed"),
                        "{}: {pasted}: {e}",
                        s.id
                    ),
                }
                read += 1;
            }
            assert!(
                read > 100,
                "{}: only {read} console lines read",
                engine.name()
            );
        }
    }
}
