//! The `corsair` command: one CORS engine, several faces.
#![forbid(unsafe_code)]

mod check;
mod eval;
mod explain;
mod export;
mod header_arg;
mod http_client;
mod playground;
mod policy_file;
mod scan;
mod serve;
#[cfg(test)]
mod test_util;
mod validate;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc: `corsair serve` allocates per request (hyper's buffers, header
/// maps, boxed futures); mimalloc's thread-local free lists cut that cost
/// measurably (docs/gateway.md, Benchmark).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// corsair: CORS done exactly right, from both sides of the wire.
#[derive(Debug, Parser)]
#[command(name = "corsair", version, propagate_version = true)]
#[command(after_help = "Examples:\n  \
corsair playground\n  \
corsair check https://api.example.com/me --origin https://app.example.com --credentials include\n  \
corsair scan https://api.example.com/me\n  \
corsair explain \"<the CORS error from the browser console>\"\n  \
corsair serve --upstream http://127.0.0.1:3000 --allow-origin https://app.example.com\n  \
corsair validate --config cors.toml\n  \
corsair eval --config cors.toml --origin https://app.example.com --method GET\n\n\
Run `corsair help <command>` for each command's options and examples.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Open a page that shows CORS happen: corsair's prediction and your browser's fetch(), side by side.
    Playground(playground::Args),
    /// Send what a browser would send for a cross-origin fetch() and judge the answers like it.
    Check(check::CheckArgs),
    /// Probe URLs for CORS misconfigurations and explain each one.
    Scan(scan::Args),
    /// Check a policy file and list every problem at once.
    Validate(validate::Args),
    /// Show what a policy answers to one request, without any network.
    Eval(eval::Args),
    /// Turn a CORS error pasted from the browser's console into its cause and fix, offline.
    Explain(explain::Args),
    /// Run a CORS gateway in front of an HTTP API.
    Serve(serve::Args),
    /// Write the policy as nginx, HAProxy, Caddy, Apache, Envoy, Traefik, Kong, Gateway API, S3 or API Gateway config.
    Export(export::ExportArgs),
    /// Read such a config back into a [cors] table and list its problems.
    Import(export::ImportArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Playground(args) => playground::run(args),
        Command::Check(args) => check::run(args),
        Command::Scan(args) => scan::run(args),
        Command::Validate(args) => validate::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Explain(args) => explain::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Export(args) => export::run_export(args),
        Command::Import(args) => export::run_import(args),
    }
}
