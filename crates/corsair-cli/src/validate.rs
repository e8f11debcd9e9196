//! `corsair validate`: check a policy file and list every problem at once.

use std::path::PathBuf;
use std::process::ExitCode;

use corsair::Policy;

use crate::policy_file::{load_config, LoadError};

/// Arguments of `corsair validate`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  corsair validate --config cors.toml\n\n\
Exit status: 0 when the policy is valid (warnings are printed), 2 when it is not \
(every problem is listed).")]
pub struct Args {
    /// The TOML file with a [cors] table.
    #[arg(long, short, value_name = "FILE")]
    pub config: PathBuf,
}

/// Runs the command.
pub fn run(args: Args) -> ExitCode {
    let file = match load_config(&args.config) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    match Policy::new(&file.cors) {
        Ok(policy) => {
            for w in policy.warnings() {
                println!("{w}");
            }
            let n = policy.warnings().len();
            if n == 0 {
                println!("{}: valid CORS policy", args.config.display());
            } else {
                println!(
                    "{}: valid CORS policy, {n} warning{}",
                    args.config.display(),
                    if n == 1 { "" } else { "s" }
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{}: {}", args.config.display(), LoadError::Invalid(e));
            ExitCode::from(2)
        }
    }
}
