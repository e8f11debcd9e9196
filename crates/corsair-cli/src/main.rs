//! The `corsair` command.
#![forbid(unsafe_code)]

mod check;
mod http_client;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Evaluate and validate CORS policies; check live servers like a browser would.
#[derive(Debug, Parser)]
#[command(name = "corsair", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Send what a browser would send for a cross-origin fetch() and judge the answers like it.
    Check(check::CheckArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check(args) => check::run(args),
    }
}
