//! The scenario lab: the three scenario servers (`page`, `cross`,
//! `cross-host`) answering from a catalogue, and [`Lab::run`], which plays
//! scenarios in one Chromium page and returns an [`Observation`] each.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use crate::driver::{Browser, DriverError};
use crate::fetch::{console_by_key, key_in, run_fetches, FetchCall};
use crate::observation::{Observation, SeenRequest};
use crate::scenario::{Env, Scenario, Server};
use crate::server::{bind_loopback, response, Handler, Received, RequestLog, TestServer};

/// How many fetches run at once in the page.
pub const CONCURRENCY: usize = 12;

/// The cookie the page sets on `127.0.0.1` (so requests to `page` and
/// `cross` may carry it, depending on the credentials mode).
pub const COOKIE: &str = "corsair=1";

/// The blank page every run starts from.
pub const BLANK_PAGE: &str = "<!doctype html><title>corsair conformance</title><p>corsair";

type Scenarios = Arc<RwLock<HashMap<String, Scenario>>>;

/// Three running scenario servers and their shared request log.
pub struct Lab {
    runtime: tokio::runtime::Runtime,
    servers: Vec<TestServer>,
    log: RequestLog,
    env: Env,
    scenarios: Scenarios,
}

impl Lab {
    /// Starts the servers on `127.0.0.1` (random ports).
    pub fn start() -> std::io::Result<Lab> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let listeners = [bind_loopback()?, bind_loopback()?, bind_loopback()?];
        let port = |i: usize| listeners[i].local_addr().map(|a| a.port());
        let env = Env {
            page: format!("http://127.0.0.1:{}", port(0)?),
            cross: format!("http://127.0.0.1:{}", port(1)?),
            cross_host: format!("http://localhost:{}", port(2)?),
        };
        let log: RequestLog = Arc::default();
        let scenarios: Scenarios = Arc::default();
        let mut servers = Vec::new();
        for (listener, server) in listeners.into_iter().zip(Server::ALL) {
            let handler = scenario_handler(server, env.clone(), Arc::clone(&scenarios));
            servers.push(TestServer::start_on(
                listener,
                runtime.handle(),
                server.label(),
                Arc::clone(&log),
                handler,
            )?);
        }
        Ok(Lab {
            runtime,
            servers,
            log,
            env,
            scenarios,
        })
    }

    /// The origins of this run.
    pub fn env(&self) -> &Env {
        &self.env
    }

    /// The tokio runtime the servers run on (to start more servers).
    pub fn runtime(&self) -> &tokio::runtime::Handle {
        self.runtime.handle()
    }

    /// How many servers are running.
    pub fn server_count(&self) -> usize {
        self.servers.len()
    }

    /// Plays the scenarios in one new page at the `page` origin, all at
    /// once ([`CONCURRENCY`] in flight), and returns one observation per
    /// scenario, in order. Scenario ids must be unique across runs of a lab.
    pub fn run(
        &self,
        browser: &Browser,
        scenarios: &[Scenario],
    ) -> Result<Vec<Observation>, DriverError> {
        {
            let mut map = self
                .scenarios
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for s in scenarios {
                map.insert(s.id.clone(), s.clone());
            }
        }
        let page = browser.new_page()?;
        page.goto(&format!("{}/", self.env.page))?;
        let calls: Vec<FetchCall> = scenarios
            .iter()
            .map(|s| FetchCall {
                key: s.id.clone(),
                url: self.env.start_url(s),
                method: s.request.method.clone(),
                headers: s.request.headers.clone(),
                credentials: s.request.credentials.as_str().to_string(),
                body: s.request.body.clone(),
            })
            .collect();
        let results = run_fetches(&page, &calls, CONCURRENCY)?;
        // Console events arrive asynchronously, after the promise settles:
        // wait until every blocked fetch has its message (at most 5 s).
        let mut messages = Vec::new();
        for _ in 0..25 {
            std::thread::sleep(Duration::from_millis(200));
            messages.extend(page.take_console()?);
            let keyed = console_by_key(&messages);
            let complete = results
                .iter()
                .filter(|r| !r.ok)
                .all(|r| keyed.contains_key(&r.key));
            if complete {
                break;
            }
        }
        let console = console_by_key(&messages);
        let received = self.take_log();
        let mut by_key: HashMap<&str, Vec<&Received>> = HashMap::new();
        for r in &received {
            if let Some(key) = key_in(&r.path) {
                by_key.entry(key).or_default().push(r);
            }
        }
        Ok(scenarios
            .iter()
            .zip(results)
            .map(|(s, result)| Observation {
                allowed: result.ok,
                status: result.status,
                response_type: result.response_type,
                redirected: result.redirected,
                readable_headers: {
                    let mut h = result.headers;
                    h.sort();
                    h
                },
                requests: by_key
                    .get(s.id.as_str())
                    .map(|rs| rs.iter().map(|r| seen(&self.env, r)).collect())
                    .unwrap_or_default(),
                console: console
                    .get(&s.id)
                    .map(|ms| {
                        ms.iter()
                            .filter(|m| m.kind == "error")
                            .map(|m| self.env.symbolize(&m.text))
                            .collect()
                    })
                    .unwrap_or_default(),
            })
            .collect())
    }

    /// Removes and returns everything the servers logged so far.
    pub fn take_log(&self) -> Vec<Received> {
        std::mem::take(
            &mut *self
                .log
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }

    /// The shared request log (servers started on [`Lab::runtime`] may log into it).
    pub fn log(&self) -> RequestLog {
        Arc::clone(&self.log)
    }
}

/// A received request as a [`SeenRequest`].
pub fn seen(env: &Env, r: &Received) -> SeenRequest {
    let server = match r.server.as_str() {
        "cross" => Server::Cross,
        "cross-host" => Server::CrossHost,
        _ => Server::Page,
    };
    let acrm = r
        .header("access-control-request-method")
        .map(str::to_string);
    SeenRequest {
        server,
        hop: hop_of(&r.path).unwrap_or(usize::MAX),
        preflight: r.method == "OPTIONS" && acrm.is_some(),
        method: r.method.clone(),
        origin: r.header("origin").map(|o| env.symbolize(o)),
        acrm,
        acrh: r
            .header("access-control-request-headers")
            .map(str::to_string),
        cookie: r.header("cookie").is_some(),
    }
}

/// `k` in `/s/<id>/h<k>`.
pub fn hop_of(path: &str) -> Option<usize> {
    let last = path.split('?').next()?.rsplit('/').next()?;
    last.strip_prefix('h')?.parse().ok()
}

fn scenario_handler(server: Server, env: Env, scenarios: Scenarios) -> Handler {
    Arc::new(move |parts: &http::request::Parts| {
        let path = parts.uri.path();
        if path == "/" && server == Server::Page {
            let headers = vec![
                ("content-type".to_string(), "text/html".to_string()),
                (
                    "set-cookie".to_string(),
                    format!("{COOKIE}; Path=/; SameSite=Lax"),
                ),
            ];
            return response(200, &headers, BLANK_PAGE);
        }
        let found = key_in(path).and_then(|key| {
            scenarios
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .get(key)
                .cloned()
        });
        let (Some(scenario), Some(hop)) = (found, hop_of(path)) else {
            return response(404, &[], "");
        };
        let origin = parts
            .headers
            .get(http::header::ORIGIN)
            .and_then(|v| v.to_str().ok());
        let answer = scenario.answer(&env, parts.method.as_str(), hop, origin);
        response(answer.status, &answer.headers, answer.body)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hops_are_parsed_from_paths() {
        assert_eq!(hop_of("/s/a/h0"), Some(0));
        assert_eq!(hop_of("/s/a/h12?x=1"), Some(12));
        assert_eq!(hop_of("/s/a/x"), None);
    }
}
