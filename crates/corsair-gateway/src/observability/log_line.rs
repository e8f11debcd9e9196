//! The two log line formats ([`Style`]), `--log-format json` and
//! `--log-format pretty`, written straight into one
//! `String` per event and handed to the writer in one piece.
//!
//! - JSON: one flat object per event,
//!   `{"timestamp":…,"level":…,<the event's fields>,"target":…}`, the shape
//!   `tracing-subscriber`'s own JSON format writes with
//!   `flatten_event(true)`; strings escaped as RFC 8259 §7 requires,
//!   numbers as numbers, non-finite floats (which JSON cannot spell) as
//!   `null`.
//! - Text: `tracing-subscriber`'s default line,
//!   `<timestamp> <LEVEL> <target>: <message> key=value ...`, strings
//!   quoted as Rust's `Debug` quotes them; control characters in the
//!   message and in other values are escaped, so a logged value cannot
//!   drive the reader's terminal.
//!
//! Written here rather than taken from `tracing-subscriber` because the
//! access log writes a line per request: its JSON format serialises every
//! field through `serde_json` into an `io::Write` adapter that checks each
//! small piece for UTF-8, and its text format goes through `core::fmt`
//! padding and `Debug` for every value, which together cost more than the
//! proxying itself (the commit that introduced this module has the
//! side-by-side callgrind counts). A test compares the text format with
//! `tracing-subscriber`'s, line for line.

use std::fmt::{self, Write};
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// The two line formats (see the module docs); each is the event format
/// the subscriber is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// `--log-format json`: one JSON object a line.
    Json,
    /// `--log-format pretty`: tracing-subscriber's readable line.
    Text,
}

impl<S, N> FormatEvent<S, N> for Style
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        writer.write_str(&line(event, *self))
    }
}

/// The line for `event`, newline included.
fn line(event: &Event<'_>, style: Style) -> String {
    let meta = event.metadata();
    let level = meta.level().as_str();
    let mut out = String::with_capacity(256);
    // RFC 3339 in UTC with microseconds, as tracing-subscriber writes it:
    // digits and `-:.TZ` only, nothing to escape. humantime panics on a
    // time before 1970: a clock set that far back logs the epoch instead.
    let now = humantime::format_rfc3339_micros(SystemTime::now().max(UNIX_EPOCH));
    // Writing to a `String` cannot fail.
    match style {
        Style::Json => {
            let _ = write!(out, "{{\"timestamp\":\"{now}\",\"level\":\"{level}\"");
        }
        Style::Text => {
            // The level right-aligned in five columns.
            let pad = if level.len() < 5 { " " } else { "" };
            let _ = write!(out, "{now} {pad}{level} ");
            push_text(&mut out, meta.target());
            out.push(':');
        }
    }
    event.record(&mut Fields {
        out: &mut out,
        style,
    });
    match style {
        Style::Json => {
            out.push_str(",\"target\":");
            push_string(&mut out, meta.target());
            out.push_str("}\n");
        }
        Style::Text => out.push('\n'),
    }
    out
}

/// Writes each field: `,"name":value` (JSON), ` name=value` (text, the
/// message bare).
struct Fields<'a> {
    out: &'a mut String,
    style: Style,
}

impl Fields<'_> {
    /// Writes what goes before `field`'s value; true when the value is a
    /// text line's bare message.
    fn key(&mut self, field: &Field) -> bool {
        let name = field.name();
        match self.style {
            Style::Json => {
                self.out.push(',');
                push_string(self.out, name);
                self.out.push(':');
                false
            }
            Style::Text => {
                self.out.push(' ');
                if name == "message" {
                    return true;
                }
                push_text(self.out, name.strip_prefix("r#").unwrap_or(name));
                self.out.push('=');
                false
            }
        }
    }

    fn integer(&mut self, field: &Field, value: impl itoa::Integer) {
        self.key(field);
        self.out.push_str(itoa::Buffer::new().format(value));
    }
}

impl Visit for Fields<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.key(field);
        if value.is_finite() {
            // The shortest decimal that reads back as the same number
            // (`1.25`, `1e-7`, `100.0`): always a valid JSON number.
            self.out.push_str(ryu::Buffer::new().format_finite(value));
        } else if self.style == Style::Json {
            self.out.push_str("null");
        } else {
            let _ = write!(self.out, "{value:?}");
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.integer(field, value);
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.integer(field, value);
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        self.integer(field, value);
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        self.integer(field, value);
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.key(field);
        self.out.push_str(if value { "true" } else { "false" });
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        let bare = self.key(field);
        match self.style {
            Style::Json => push_string(self.out, value),
            Style::Text if bare => push_text(self.out, value),
            Style::Text => push_quoted(self.out, value),
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        // The message (`format_args!`) and any `?value` or `%value`:
        // formatted straight through the escaper, no `String` in between.
        self.key(field);
        match self.style {
            Style::Json => {
                self.out.push('"');
                let _ = write!(Escaper(self.out, push_escaped), "{value:?}");
                self.out.push('"');
            }
            Style::Text => {
                let _ = write!(Escaper(self.out, push_text), "{value:?}");
            }
        }
    }
}

/// `s` as a JSON string, quoted and escaped.
fn push_string(out: &mut String, s: &str) {
    out.push('"');
    push_escaped(out, s);
    out.push('"');
}

/// `s` escaped for the inside of a JSON string (RFC 8259 §7): `"`, `\` and
/// the control characters U+0000 to U+001F; everything else, any Unicode
/// character included, goes through as it is.
fn push_escaped(out: &mut String, s: &str) {
    push_with(
        out,
        s,
        |b| b < 0x20 || b == b'"' || b == b'\\',
        |out, byte| match byte {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            _ => push_hex(out, "\\u00", byte, ""),
        },
    );
}

/// `s` for a text line, as it is but for the ASCII control characters
/// (ESC among them), each written as two hex digits in `\u{…}` (`\u{1b}`,
/// `\u{0a}`).
fn push_text(out: &mut String, s: &str) {
    push_with(
        out,
        s,
        |b| b < 0x20 || b == 0x7f,
        |out, byte| {
            push_hex(out, "\\u{", byte, "}");
        },
    );
}

/// `s` quoted for a text line, exactly as Rust's `Debug` quotes it (what
/// tracing-subscriber's text format writes for a string value): printable
/// ASCII with only `"` and `\` escaped, else `Debug` itself.
fn push_quoted(out: &mut String, s: &str) {
    if s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        out.push('"');
        push_with(
            out,
            s,
            |b| b == b'"' || b == b'\\',
            |out, byte| {
                out.push('\\');
                out.push(char::from(byte));
            },
        );
        out.push('"');
    } else {
        let _ = write!(out, "{s:?}");
    }
}

/// `prefix`, `byte` in two lowercase hex digits, `suffix`.
fn push_hex(out: &mut String, prefix: &str, byte: u8, suffix: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push_str(prefix);
    out.push(char::from(HEX[usize::from(byte >> 4)]));
    out.push(char::from(HEX[usize::from(byte & 0xf)]));
    out.push_str(suffix);
}

/// Copies `s`, with `escape` writing each ASCII byte that `special` picks
/// in its place. Most strings have none: one scan and one copy.
fn push_with(
    out: &mut String,
    s: &str,
    special: impl Fn(u8) -> bool,
    escape: impl Fn(&mut String, u8),
) {
    let bytes = s.as_bytes();
    let mut plain = 0;
    while let Some(found) = bytes[plain..].iter().position(|&b| special(b)) {
        let i = plain + found;
        // `special` picks ASCII bytes only, so `i` is a character boundary.
        out.push_str(&s[plain..i]);
        escape(out, bytes[i]);
        plain = i + 1;
    }
    out.push_str(&s[plain..]);
}

/// A `fmt::Write` that writes what goes through it with an escaping
/// function ([`push_escaped`], [`push_text`]).
struct Escaper<'a>(&'a mut String, fn(&mut String, &str));

impl Write for Escaper<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        (self.1)(self.0, s);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::sync::{Arc, Mutex};

    use proptest::prelude::*;
    use serde_json::Value;

    use super::*;

    /// Everything the subscriber writes, for the test to read.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// The lines `emit` logs, each as written and parsed as JSON.
    fn lines(emit: impl FnOnce()) -> Vec<(String, Value)> {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_max_level(tracing::Level::TRACE)
            .event_format(Style::Json)
            .finish();
        tracing::subscriber::with_default(subscriber, emit);
        let bytes = captured.0.lock().unwrap().clone();
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.ends_with('\n'), "every line ends with a newline");
        text.lines()
            .map(|l| {
                let value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
                (l.to_owned(), value)
            })
            .collect()
    }

    #[test]
    fn an_access_log_line_has_every_field_with_its_json_type() {
        let got = lines(|| {
            tracing::info!(
                target: "corsair::access",
                method = "GET",
                path = "/a \"quoted\"\\path\n",
                status = 200u16,
                latency_ms = 1.25f64,
                kind = "actual",
                ok = true,
                delta = -3i64,
                "request"
            );
        });
        let (text, line) = &got[0];
        assert_eq!(line["level"], "INFO");
        assert_eq!(line["target"], "corsair::access");
        assert_eq!(line["message"], "request");
        assert_eq!(line["method"], "GET");
        assert_eq!(line["path"], "/a \"quoted\"\\path\n");
        assert_eq!(line["status"], 200);
        assert_eq!(line["latency_ms"], 1.25);
        assert_eq!(line["kind"], "actual");
        assert_eq!(line["ok"], true);
        assert_eq!(line["delta"], -3);
        let ts = line["timestamp"].as_str().unwrap();
        assert!(
            ts.len() >= 20 && ts.ends_with('Z') && ts.as_bytes()[10] == b'T',
            "RFC 3339 UTC: {ts}"
        );
        // The same key order as tracing-subscriber's flattened JSON.
        assert!(text.starts_with("{\"timestamp\":\""), "{text}");
        assert!(
            text.contains("\"level\":\"INFO\",\"message\":\"request\",\"method\":"),
            "{text}"
        );
        assert!(text.ends_with(",\"target\":\"corsair::access\"}"), "{text}");
    }

    #[test]
    fn non_finite_floats_are_null_and_debug_values_are_strings() {
        let got = lines(|| {
            tracing::warn!(
                nan = f64::NAN,
                inf = f64::INFINITY,
                tiny = 1e-7f64,
                whole = 100.0f64,
                big = u128::MAX,
                list = ?vec!["a", "b"],
                shown = %"tab\there",
                "upstream {} failed",
                "x\"y"
            );
        });
        let (text, line) = &got[0];
        assert_eq!(line["level"], "WARN");
        assert_eq!(line["nan"], Value::Null);
        assert_eq!(line["inf"], Value::Null);
        assert_eq!(line["tiny"].as_f64(), Some(1e-7));
        assert_eq!(line["whole"].as_f64(), Some(100.0));
        // A number, every digit of it (serde_json reads it back as a float).
        assert!(text.contains(&format!("\"big\":{},", u128::MAX)), "{text}");
        assert_eq!(line["list"], "[\"a\", \"b\"]");
        assert_eq!(line["shown"], "tab\there");
        assert_eq!(line["message"], "upstream x\"y failed");
    }

    /// Escapes `s` as a JSON string with this module's escaper.
    fn escaped(s: &str) -> String {
        let mut out = String::new();
        push_string(&mut out, s);
        out
    }

    #[test]
    fn control_characters_are_escaped_as_unicode() {
        assert_eq!(escaped("\u{0}\u{1f}\u{7f}é"), "\"\\u0000\\u001f\u{7f}é\"");
    }

    /// The text lines `emit` logs, each without its timestamp: through
    /// [`Style::Text`], or through tracing-subscriber's own text format.
    fn text_lines(emit: &dyn Fn(), ours: bool) -> Vec<String> {
        let captured = Captured::default();
        let writer = captured.clone();
        let builder = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_target(true);
        if ours {
            tracing::subscriber::with_default(builder.event_format(Style::Text).finish(), emit);
        } else {
            tracing::subscriber::with_default(builder.finish(), emit);
        }
        let bytes = captured.0.lock().unwrap().clone();
        String::from_utf8(bytes)
            .unwrap()
            .lines()
            .map(|l| l.split_once(' ').unwrap().1.to_owned())
            .collect()
    }

    #[test]
    fn text_lines_read_as_tracing_subscriber_writes_them() {
        let emit = || {
            tracing::info!(
                target: "corsair::access",
                method = "GET",
                path = "/a \"b\"\\c",
                status = 200u16,
                latency_ms = 1.25f64,
                ok = true,
                list = ?vec!["a"],
                shown = %"x y",
                "request {}",
                5
            );
            tracing::warn!(target: "corsair::upstream", error = %"refused", "502");
            tracing::error!(n = -3i64, "plain");
        };
        let ours = text_lines(&emit, true);
        assert_eq!(ours.len(), 3);
        assert_eq!(ours, text_lines(&emit, false));
        assert!(
            ours[0].starts_with(" INFO corsair::access: request 5 method=\"GET\""),
            "{}",
            ours[0]
        );
    }

    #[test]
    fn text_lines_escape_control_characters() {
        let lines = text_lines(
            &|| {
                tracing::info!(
                    shown = %"\u{1b}[31mred",
                    path = "\u{1b}]0;title\u{7}",
                    "clear \u{1b}[2J"
                )
            },
            true,
        );
        let line = &lines[0];
        assert!(!line.bytes().any(|b| b < 0x20 || b == 0x7f), "{line:?}");
        assert!(line.contains("clear \\u{1b}[2J"), "{line}");
        assert!(line.contains("shown=\\u{1b}[31mred"), "{line}");
        assert!(line.contains("path=\"\\u{1b}]0;title\\u{7}\""), "{line}");
    }

    proptest! {
        /// Any string at all reads back as itself, through serde_json's
        /// parser, and the escaped form holds no raw control character.
        #[test]
        fn any_string_round_trips(s in any::<String>()) {
            let json = escaped(&s);
            prop_assert!(!json.bytes().any(|b| b < 0x20));
            let back: String = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(back, s);
        }
    }
}
