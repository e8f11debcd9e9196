//! The `--log-format json` line format: one flat JSON object per event,
//! `{"timestamp":…,"level":…,<the event's fields>,"target":…}`, the shape
//! `tracing-subscriber`'s own JSON format writes with `flatten_event(true)`.
//!
//! Written here rather than taken from `tracing-subscriber` because of what
//! that one costs per access-log line: it serialises every field through
//! `serde_json` into an `io::Write` adapter over the line buffer that
//! checks each small piece for UTF-8 and copies it on, about 19k
//! instructions per request in `corsair serve`, more than half of what the
//! proxying itself takes (`valgrind --tool=callgrind`, see README). This
//! builds the same JSON in a plain `String` and hands it to the writer in
//! one piece: strings escaped as RFC 8259 §7 requires, numbers as numbers,
//! non-finite floats (which JSON cannot spell) as `null`.

use std::fmt::{self, Write};

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// The JSON-lines event format (see the module docs).
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonLines;

impl<S, N> FormatEvent<S, N> for JsonLines
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
        writer.write_str(&line(event))
    }
}

/// The line for `event`, newline included.
fn line(event: &Event<'_>) -> String {
    let meta = event.metadata();
    let mut out = String::with_capacity(256);
    // RFC 3339 in UTC with microseconds, as tracing-subscriber writes it:
    // digits and `-:.TZ` only, nothing to escape.
    out.push_str("{\"timestamp\":\"");
    // Writing to a `String` cannot fail. humantime panics on a time before
    // 1970: a clock set that far back logs the epoch instead.
    let now = std::time::SystemTime::now().max(std::time::UNIX_EPOCH);
    let _ = write!(out, "{}", humantime::format_rfc3339_micros(now));
    out.push_str("\",\"level\":\"");
    out.push_str(meta.level().as_str());
    out.push('"');
    event.record(&mut Fields(&mut out));
    out.push_str(",\"target\":");
    push_string(&mut out, meta.target());
    out.push_str("}\n");
    out
}

/// Writes each field as `,"name":value`.
struct Fields<'a>(&'a mut String);

impl Fields<'_> {
    /// `,"name":` for `field`, then the value is the caller's to write.
    fn key(&mut self, field: &Field) -> &mut String {
        self.0.push(',');
        push_string(self.0, field.name());
        self.0.push(':');
        self.0
    }

    fn integer(&mut self, field: &Field, value: impl itoa::Integer) {
        self.key(field).push_str(itoa::Buffer::new().format(value));
    }
}

impl Visit for Fields<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        let out = self.key(field);
        if value.is_finite() {
            // The shortest decimal that reads back as the same number
            // (`1.25`, `1e-7`, `100.0`): always a valid JSON number.
            out.push_str(ryu::Buffer::new().format_finite(value));
        } else {
            out.push_str("null");
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
        self.key(field)
            .push_str(if value { "true" } else { "false" });
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        let out = self.key(field);
        push_string(out, value);
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        // The message (`format_args!`) and any `?value` or `%value`:
        // formatted straight through the escaper, no `String` in between.
        let out = self.key(field);
        out.push('"');
        let _ = write!(Escaper(out), "{value:?}");
        out.push('"');
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
    let bytes = s.as_bytes();
    let mut plain = 0;
    // Most strings have nothing to escape: one scan and one copy.
    while let Some(found) = bytes[plain..].iter().position(|&b| ESCAPED[usize::from(b)]) {
        let i = plain + found;
        let byte = bytes[i];
        // `i` is at an ASCII byte, so a character boundary.
        out.push_str(&s[plain..i]);
        match byte {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\u00");
                out.push(char::from(HEX[usize::from(byte >> 4)]));
                out.push(char::from(HEX[usize::from(byte & 0xf)]));
            }
        }
        plain = i + 1;
    }
    out.push_str(&s[plain..]);
}

/// The bytes JSON strings cannot hold as they are: `"`, `\\` and the
/// control characters (RFC 8259 §7).
static ESCAPED: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 0x20 {
        table[byte] = true;
        byte += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

/// A `fmt::Write` that escapes what goes through it ([`push_escaped`]).
struct Escaper<'a>(&'a mut String);

impl Write for Escaper<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        push_escaped(self.0, s);
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
            .event_format(JsonLines)
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
