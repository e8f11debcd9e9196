//! # corsair-conformance
//!
//! corsair checked against real headless browsers (Debian's `chromium` and
//! `firefox-esr`, driven by the Node scripts in `browser/`):
//!
//! - [`driver`]: a small reusable driver (start a browser, open a page,
//!   run JavaScript, read the console, take a screenshot);
//! - [`suite`]: the whole suite in one engine, and its report;
//! - [`server`]: recording HTTP servers on `127.0.0.1`;
//! - [`scenario`]: scenarios as data (a request and every server answer);
//! - [`matrix`]: the generated scenario matrix and the catalogue files;
//! - [`lab`]: the scenario servers and the runner that plays scenarios in
//!   one page and records an [`observation::Observation`] each;
//! - [`observation`]: observations, the [`observation::Predictor`] trait
//!   the browser model plugs into, and the comparison;
//! - [`model`]: the browser model's adapter ([`model::browser_model`]);
//! - [`invariants`]: checks true of any browser, whatever the model predicts;
//! - [`policy_suite`]: serving real responses through [`corsair::Policy`].
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod cache_sequences;
pub mod driver;
pub mod fetch;
pub mod invariants;
pub mod lab;
pub mod matrix;
pub mod model;
pub mod observation;
pub mod policy_suite;
pub mod proxy_suite;
pub mod scenario;
pub mod server;
pub mod suite;
