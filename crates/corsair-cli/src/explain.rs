//! `corsair explain`: a console error pasted from the browser, turned into
//! what went wrong and the fix, offline.

use std::io::Read;
use std::process::ExitCode;

use corsair::browser::{explain, Explained, Unrecognized};

/// What the fix names when the message does not say which page it was.
const PLACEHOLDER_ORIGIN: &str = "https://your-page.example";

/// Arguments of `corsair explain`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
corsair explain \"Access to fetch at 'https://api.example.com/items' from origin \
'https://app.example.com' has been blocked by CORS policy: No 'Access-Control-Allow-Origin' \
header is present on the requested resource.\"\n  \
pbpaste | corsair explain --json\n  \
corsair explain --origin https://app.example.com < firefox-console.txt\n\n\
Reads Chromium's \"Access to fetch at ... has been blocked by CORS policy: ...\", Firefox's \
\"Cross-Origin Request Blocked: ... (Reason: ...)\" and WebKit's \"... Fetch API cannot load \
... due to access control checks.\" (both lines), anywhere in the text. The code is the one \
`corsair check --json` reports in error.code.\n\n\
Exit status: 0 when the message was recognised, 2 when it was not (or for bad arguments).")]
pub struct Args {
    /// The console message (several words are joined with spaces); read from standard
    /// input when absent or `-`.
    #[arg(value_name = "MESSAGE")]
    pub message: Vec<String>,
    /// The page's origin, for messages that do not name it (Firefox's, most of WebKit's).
    #[arg(long, value_name = "ORIGIN")]
    pub origin: Option<String>,
    /// Print one JSON object: browser, code, url, origin, explanation, fix.
    #[arg(long)]
    pub json: bool,
}

/// Runs the command.
pub fn run(args: Args) -> ExitCode {
    let text = match args.message.as_slice() {
        [] => read_stdin(),
        [dash] if dash == "-" => read_stdin(),
        words => Ok(words.join(" ")),
    };
    let text = match text {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot read the message from standard input: {e}");
            return ExitCode::from(2);
        }
    };
    let (explained, origin_known) = match resolve(&text, args.origin.as_deref()) {
        Ok(r) => r,
        Err(unrecognized) => {
            eprintln!("error: {unrecognized}");
            return ExitCode::from(2);
        }
    };
    if args.json {
        println!("{}", json(&explained, origin_known));
    } else {
        print!("{}", human(&explained, origin_known));
    }
    ExitCode::SUCCESS
}

/// Reads `text` and fills in the page's origin: the message's own, else
/// `origin`, else a stand-in; the flag says whether it is known.
pub fn resolve(text: &str, origin: Option<&str>) -> Result<(Explained, bool), Unrecognized> {
    let mut explained = explain(text)?;
    let named = !explained.error.context.origin.is_empty();
    let chosen = match (origin, named) {
        (Some(o), _) => o.to_string(),
        (None, true) => explained.error.context.origin.clone(),
        (None, false) => PLACEHOLDER_ORIGIN.to_string(),
    };
    explained.error.context.origin = chosen.clone();
    explained.error.context.request_origin = chosen;
    Ok((explained, named || origin.is_some()))
}

fn read_stdin() -> std::io::Result<String> {
    let mut text = String::new();
    std::io::stdin().take(1 << 20).read_to_string(&mut text)?;
    Ok(text)
}

/// The `--json` object (also the playground's `/api/explain` answer).
pub fn json(e: &Explained, origin_known: bool) -> serde_json::Value {
    let error = &e.error;
    serde_json::json!({
        "browser": e.browser,
        "code": error.code(),
        "url": error.context.url,
        "origin": origin_known.then_some(&error.context.origin),
        "also_possible": e.also_possible,
        "explanation": error.explanation(),
        "fix": error.fix(),
    })
}

/// The human report.
fn human(e: &Explained, origin_known: bool) -> String {
    let error = &e.error;
    let mut s = format!("{} printed: {}\n", e.browser, error.code());
    if !error.context.url.is_empty() {
        s.push_str(&format!("  URL:    {}\n", error.context.url));
    }
    if origin_known {
        s.push_str(&format!("  Origin: {}\n", error.context.origin));
    }
    if !e.also_possible.is_empty() {
        s.push_str(&format!(
            "  {} prints the same message for: {} (corsair check URL --origin ORIGIN tells which)\n",
            e.browser,
            e.also_possible.join(", ")
        ));
    }
    s.push_str(&format!("  Why: {}\n", error.explanation()));
    let fix = error.fix();
    s.push_str(&format!("  Fix: {}\n", fix.summary));
    if let (Some(h), Some(v)) = (&fix.header, &fix.value) {
        s.push_str(&format!("    {h}: {v}\n"));
    }
    s.push_str("  With corsair as the server's CORS layer:\n");
    for line in fix.toml.lines() {
        s.push_str(&format!("    {line}\n"));
    }
    if !origin_known {
        s.push_str(&format!(
            "  (the message does not name the page's origin: {PLACEHOLDER_ORIGIN} stands for it; \
             pass --origin ORIGIN)\n"
        ));
    }
    s
}
