//! The browser side of CORS: what a browser does for a cross-origin
//! `fetch()`, as an explicit state machine the caller drives with
//! responses (WHATWG Fetch §4 "Fetching", §3.2 "CORS protocol").
//!
//! The same code serves the `corsair check` command (which sends the
//! requests over the network), tests (which answer with canned
//! responses) and anything else that can produce HTTP responses.
//!
//! # The flow
//!
//! ```text
//!  BrowserRequest::new  ── TypeError? ──▶ RequestError (forbidden method,
//!        │                                 bad header, URL with userinfo)
//!        ▼                                 forbidden headers: dropped
//!  Browser::start ─▶ main fetch
//!        │   same origin ─────────────────────────────┐
//!        │   cross-origin, safelisted method+headers ─┤ (no preflight)
//!        │   otherwise: preflight cache hit? ─ yes ───┤
//!        ▼ no                                         ▼
//!  Step::SendPreflight(OPTIONS)            Step::SendActual(request)
//!        │ on_response                                │ on_response
//!        ▼                                            ▼
//!  3xx → redirect-in-preflight            CORS check (every hop, when CORS)
//!  CORS check, ok status,                 redirect (301/302/303/307/308 +
//!  Allow-Methods/-Headers parse+match,      Location)? → HTTP-redirect fetch:
//!  max-age → cache ───────▶ SendActual      limit 20, userinfo, method rewrite,
//!                                           drop Authorization cross-origin,
//!                                           taint origin → main fetch again
//!                                         final → exposed headers → Done
//! ```
//!
//! Every failure ends the flow with [`Step::Done`] carrying an
//! [`Outcome`] whose `error` is a [`CorsError`]: a stable code, each
//! browser's console message, a plain explanation and the fix.
//!
//! ```
//! use corsair::browser::{Browser, BrowserRequest, Credentials, Profile, Step};
//! use corsair::Origin;
//!
//! let origin = Origin::parse("https://app.example").unwrap();
//! let headers: Vec<(&str, &[u8])> = vec![("Content-Type", b"application/json")];
//! let req = BrowserRequest::new(origin, "https://api.example/items", "POST", headers, Credentials::SameOrigin).unwrap();
//! let mut browser = Browser::new(Profile::Chromium);
//! let mut flow = browser.start(req);
//! let Step::SendPreflight(preflight) = flow.next_step() else { panic!() };
//! assert_eq!(preflight.headers["access-control-request-headers"], "content-type");
//!
//! let mut resp = http::HeaderMap::new();
//! resp.insert("access-control-allow-origin", "https://app.example".parse().unwrap());
//! resp.insert("access-control-allow-headers", "content-type".parse().unwrap());
//! let Step::SendActual(_) = flow.on_response(204, &resp) else { panic!() };
//! let mut resp = http::HeaderMap::new();
//! resp.insert("access-control-allow-origin", "*".parse().unwrap());
//! let Step::Done(outcome) = flow.on_response(200, &resp) else { panic!() };
//! assert!(outcome.allowed && outcome.preflight_sent);
//! ```
//!
//! Browser differences live in [`profile`]; everything else follows the
//! Fetch Standard, and each function names the section it implements.

pub mod cache;
pub mod check;
pub mod error;
pub mod explain;
pub mod expose;
pub mod header_list;
pub mod machine;
pub mod mime;
pub mod preflight;
pub mod profile;
pub mod redirect;
pub mod request;
pub mod safelist;

pub use cache::{CacheEntry, CacheKey, PreflightCache};
pub use error::{CorsError, CorsErrorKind, ErrorContext, Fix, Stage};
pub use explain::{explain, Explained, Unrecognized};
pub use machine::{Browser, Exchange, ExchangeKind, Flow, Outcome, ResponseRecord, Step, Tainting};
pub use profile::Profile;
pub use request::{BrowserRequest, Credentials, HttpRequest, RequestError};
