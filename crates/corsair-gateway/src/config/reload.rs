//! Hot reload: on SIGHUP, and when the config file's content changes
//! (checked twice a second, and applied once it has stayed the same for
//! two seconds, or at once when a new file was renamed into place), the
//! file is read, validated and swapped in atomically. Connections stay open; requests already running finish with
//! the config they started with. An invalid file keeps the old config
//! running and every problem is logged. `listen`, `admin`, `[tls]` and the
//! connect and idle timeouts are read at startup only: changing them logs
//! that a restart is needed.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

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

/// How often the file is looked at.
const POLL: Duration = Duration::from_millis(500);
/// How long a changed file must stay the same before it is applied.
const SETTLE: Duration = Duration::from_secs(2);

/// What to do with the file as it is now.
#[derive(Debug, PartialEq, Eq)]
enum Step {
    /// It is what was loaded last.
    Nothing,
    /// It changed and has not settled yet.
    Wait,
    /// Apply it.
    Apply,
}

/// Decides when a changed file is applied: once its content has stayed
/// the same for [`SETTLE`], so a file written in several steps never has
/// a part live; at once when it is a new file (another inode: renamed
/// into place, which is how config managers and editors write atomically).
#[derive(Debug)]
struct Settle {
    loaded: String,
    inode: Option<u64>,
    /// The changed content seen, and since when.
    pending: Option<(String, Instant)>,
}

impl Settle {
    fn new(loaded: String, inode: Option<u64>) -> Self {
        Settle {
            loaded,
            inode,
            pending: None,
        }
    }

    /// The file holds `text` at `now`, in the file `inode`.
    fn observe(&mut self, text: &str, inode: Option<u64>, now: Instant) -> Step {
        let renamed = inode.is_some() && inode != self.inode;
        self.inode = inode;
        if text == self.loaded {
            self.pending = None;
            return Step::Nothing;
        }
        let settled = match &self.pending {
            Some((pending, since)) if pending == text => {
                now.saturating_duration_since(*since) >= SETTLE
            }
            _ => {
                self.pending = Some((text.to_owned(), now));
                false
            }
        };
        if renamed || settled {
            self.loaded_now(text);
            Step::Apply
        } else {
            Step::Wait
        }
    }

    /// `text` was applied (or found invalid: reported once, not on every
    /// poll).
    fn loaded_now(&mut self, text: &str) {
        self.loaded = text.to_owned();
        self.pending = None;
    }
}

/// The file's inode, to tell a file renamed into place.
fn inode(path: &std::path::Path) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| m.ino())
}

/// Watches for SIGHUP and file changes until `stop` turns true.
pub async fn watch(
    source: Source,
    states: Vec<Arc<State>>,
    metrics: Arc<Metrics>,
    loaded: String,
    mut hangup: Option<Signal>,
    mut stop: watch::Receiver<bool>,
) {
    let mut settle = Settle::new(loaded, inode(&source.path));
    let mut tick = tokio::time::interval(POLL);
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
        if forced {
            settle.loaded_now(&text);
            apply(&source, &states, &metrics, &text, "SIGHUP");
            continue;
        }
        match settle.observe(&text, inode(&source.path), Instant::now()) {
            Step::Nothing => {}
            Step::Wait => {
                tracing::debug!(target: TARGET, path = %source.path.display(), "config file changed; applying it once it has not changed for {SETTLE:?} (write config files atomically: a temporary file, then rename)")
            }
            Step::Apply => {
                apply(&source, &states, &metrics, &text, "file changed");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_written_in_steps_is_applied_once_it_settles() {
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        let mut s = Settle::new("old".into(), Some(1));
        assert_eq!(s.observe("old", Some(1), at(0)), Step::Nothing);
        // The first half, then the whole file 1.6 s later.
        assert_eq!(s.observe("half", Some(1), at(500)), Step::Wait);
        assert_eq!(s.observe("half", Some(1), at(1000)), Step::Wait);
        assert_eq!(s.observe("half", Some(1), at(2000)), Step::Wait);
        assert_eq!(s.observe("whole", Some(1), at(2100)), Step::Wait);
        assert_eq!(s.observe("whole", Some(1), at(3500)), Step::Wait);
        assert_eq!(s.observe("whole", Some(1), at(4100)), Step::Apply);
        assert_eq!(s.observe("whole", Some(1), at(4600)), Step::Nothing);
    }

    #[test]
    fn a_file_renamed_into_place_is_applied_at_once() {
        let t0 = Instant::now();
        let mut s = Settle::new("old".into(), Some(1));
        assert_eq!(s.observe("new", Some(2), t0), Step::Apply);
        assert_eq!(s.observe("new", Some(2), t0), Step::Nothing);
        // Back to what was loaded before it settled: nothing to do.
        assert_eq!(s.observe("newer", Some(2), t0), Step::Wait);
        assert_eq!(s.observe("new", Some(2), t0), Step::Nothing);
        assert_eq!(s.observe("newer", Some(2), t0 + SETTLE), Step::Wait);
    }
}
