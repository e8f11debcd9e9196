//! Loading a policy from a TOML file, with errors that say what to do.

use std::path::Path;

use corsair::{ConfigErrors, ConfigFile, Policy};

/// Why a policy file could not be turned into a policy.
#[derive(Debug)]
pub enum LoadError {
    /// The file could not be read.
    Read(String),
    /// The file is not valid TOML or has the wrong shape.
    Syntax(String),
    /// The values break CORS rules: every problem.
    Invalid(ConfigErrors),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Read(m) | LoadError::Syntax(m) => f.write_str(m),
            LoadError::Invalid(e) => write!(f, "{}", e.to_string().trim_end()),
        }
    }
}

/// Reads and parses a config file (its `[cors]` table).
pub fn load_config(path: &Path) -> Result<ConfigFile, LoadError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| LoadError::Read(format!("cannot read config file {}: {e}", path.display())))?;
    ConfigFile::from_toml(&text)
        .map_err(|e| LoadError::Syntax(format!("{}: {}", path.display(), e.message)))
}

/// Reads a config file and builds its policy.
pub fn load_policy(path: &Path) -> Result<Policy, LoadError> {
    let file = load_config(path)?;
    Policy::new(&file.cors).map_err(LoadError::Invalid)
}
