//! Hot reload: on SIGHUP, and when the config file's content changes
//! (checked every second), the file is read, validated and swapped in
//! atomically. Connections stay open; requests already running finish with
//! the config they started with. An invalid file keeps the old config
//! running and every problem is logged. `listen`, `admin`, `[tls]` and the
//! connect and idle timeouts are read at startup only: changing them logs
//! that a restart is needed.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::signal::unix::Signal;
use tokio::sync::watch;

use crate::config::file::GatewayFile;
use crate::config::settings::{self, Settings};
use crate::gateway::{Snapshot, State};
use crate::observability::metrics::Metrics;
use crate::Overrides;

const TARGET: &str = "corsair::reload";

/// Where the config comes from and what the command line overrides.
#[derive(Debug)]
pub struct Source {
    /// The config file.
    pub path: PathBuf,
    /// `--listen` and `--admin`.
    pub overrides: Overrides,
}

impl Source {
    /// Reads, parses and validates the file as it is now.
    pub fn load(&self, text: &str) -> Result<Settings, Vec<String>> {
        let mut file = GatewayFile::from_toml(text)
            .map_err(|e| vec![format!("{}: {e}", self.path.display())])?;
        self.overrides.apply(&mut file);
        settings::validate(&file).map_err(|p| p.0)
    }
}

fn restart_needed(old: &Settings, new: &Settings) -> Vec<&'static str> {
    let mut keys = Vec::new();
    if old.listen != new.listen {
        keys.push("listen");
    }
    if old.admin != new.admin {
        keys.push("admin");
    }
    if old.tls != new.tls {
        keys.push("tls");
    }
    if old.timeouts.connect != new.timeouts.connect {
        keys.push("timeouts.connect");
    }
    if old.timeouts.idle != new.timeouts.idle {
        keys.push("timeouts.idle");
    }
    keys
}

/// Validates `text` and, if valid, swaps it in. Returns whether it was.
fn apply(source: &Source, states: &[Arc<State>], metrics: &Metrics, text: &str, why: &str) -> bool {
    let Some(first) = states.first() else {
        return false;
    };
    match source.load(text) {
        Ok(new) => {
            let current = first.snapshot.load();
            let keys = restart_needed(&current.settings, &new);
            if !keys.is_empty() {
                tracing::warn!(target: TARGET, "{} changed: restart the gateway to apply (the rest of the config is applied now)", keys.join(", "));
            }
            for w in new.warnings() {
                tracing::warn!(target: TARGET, "{w}");
            }
            // Every worker its own snapshot (see `Shared`).
            for state in states {
                let snapshot = Snapshot::new(new.clone(), &state.shared);
                state.snapshot.store(Arc::new(snapshot));
            }
            metrics.reload(true);
            tracing::info!(target: TARGET, path = %source.path.display(), "config reloaded ({why})");
            true
        }
        Err(problems) => {
            metrics.reload(false);
            tracing::error!(target: TARGET, path = %source.path.display(), "config NOT reloaded ({why}): {} problem(s); the previous config stays in force", problems.len());
            for p in problems {
                tracing::error!(target: TARGET, "{p}");
            }
            false
        }
    }
}

/// Watches for SIGHUP and file changes until `stop` turns true.
pub async fn watch(
    source: Source,
    states: Vec<Arc<State>>,
    metrics: Arc<Metrics>,
    mut loaded: String,
    mut hangup: Option<Signal>,
    mut stop: watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        let forced = tokio::select! {
            _ = async { match hangup.as_mut() { Some(h) => h.recv().await, None => std::future::pending().await } } => true,
            _ = tick.tick() => false,
            _ = crate::runtime::server::stopped(&mut stop) => return,
        };
        let text = match tokio::fs::read_to_string(&source.path).await {
            Ok(t) => t,
            Err(e) => {
                if forced {
                    metrics.reload(false);
                    tracing::error!(target: TARGET, "SIGHUP: cannot read {}: {e}; the previous config stays in force", source.path.display());
                }
                continue;
            }
        };
        if !forced && text == loaded {
            continue;
        }
        // Remember the text even when invalid, so one bad write is reported
        // once, not every second.
        apply(
            &source,
            &states,
            &metrics,
            &text,
            if forced { "SIGHUP" } else { "file changed" },
        );
        loaded = text;
    }
}
