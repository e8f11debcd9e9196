//! The `corsair` command: one CORS engine, several faces.
#![forbid(unsafe_code)]

mod eval;
mod header_arg;
mod policy_file;
mod serve;
mod validate;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// corsair: CORS done exactly right, from both sides of the wire.
#[derive(Debug, Parser)]
#[command(name = "corsair", version, propagate_version = true)]
#[command(after_help = "Examples:\n  \
corsair validate --config cors.toml\n  \
corsair eval --config cors.toml --origin https://app.example.com --method GET\n\n\
Run `corsair help <command>` for each command's options and examples.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check a policy file and list every problem at once.
    Validate(validate::Args),
    /// Show what a policy answers to one request, without any network.
    Eval(eval::Args),
    /// Run a CORS gateway in front of an HTTP API.
    Serve(serve::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Validate(args) => validate::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Serve(args) => serve::run(args),
    }
}
