//! Where the browser model plugs in.
//!
//! [`browser_model`] returns the [`Predictor`] the suite compares Chromium
//! with. It returns `None` until `corsair::browser` exists; then an adapter
//! implements [`Predictor::predict`] by driving the model (Chromium
//! profile) with the request of [`Scenario::request`] and, for every
//! request the model decides to send, the answer of [`Scenario::answer`]
//! (the exact status and headers the scenario servers send), and returns
//! the [`Observation`] the model predicts, symbolized with
//! [`crate::scenario::Env::symbolize`].
//!
//! [`Scenario::request`]: crate::scenario::Scenario::request
//! [`Scenario::answer`]: crate::scenario::Scenario::answer
//! [`Observation`]: crate::observation::Observation

use crate::observation::Predictor;

/// The browser model's predictor, when there is one.
pub fn browser_model() -> Option<Box<dyn Predictor>> {
    None
}
