//! The log output: `tracing` events to stderr, as JSON lines or readable
//! text ([`Style`]), up to `--log-level`.
//!
//! Access-log lines from the worker threads are written in batches: each
//! worker appends its lines to a buffer of its own and writes the buffer
//! to stderr in one `write` when it holds [`BATCH_BYTES`], on the worker's
//! tick ([`flush_every`], at most 100 ms later) and when the worker ends,
//! so a graceful shutdown loses none. One `write` system call per request
//! was most of what the access log cost. Every other event
//! (warnings, errors, reloads) is written at once, after the thread's
//! batched lines, so a thread's lines keep their order.

use std::cell::RefCell;
use std::io::{self, Write};
use std::time::Duration;

use tracing::Metadata;
use tracing_subscriber::fmt::MakeWriter;

use crate::observability::access_log;
use crate::observability::log_line::Style;

/// A worker's batch is written out once it holds this many bytes (about
/// 70 JSON access-log lines of 230 bytes).
pub const BATCH_BYTES: usize = 16 * 1024;

/// Installs the subscriber. Called once, before anything is logged.
pub fn init(style: Style, level: tracing::Level) {
    let result = tracing_subscriber::fmt()
        .with_writer(Output)
        .with_max_level(level)
        .with_ansi(false)
        .with_target(true)
        .event_format(style)
        .try_init();
    if let Err(e) = result {
        eprintln!("warning: logging is not available: {e}");
    }
}

/// Lines waiting to be written, and where they go.
struct Batch<W: Write> {
    lines: Vec<u8>,
    out: W,
}

impl<W: Write> Batch<W> {
    fn new(out: W) -> Self {
        Batch {
            lines: Vec::with_capacity(BATCH_BYTES),
            out,
        }
    }

    /// Adds whole lines; writes the batch out once it is full.
    fn push(&mut self, lines: &[u8]) {
        self.lines.extend_from_slice(lines);
        if self.lines.len() >= BATCH_BYTES {
            self.flush();
        }
    }

    /// Writes out what is waiting. A failed write (stderr closed) is
    /// dropped, as the unbatched lines' would be.
    fn flush(&mut self) {
        if !self.lines.is_empty() {
            let _ = self.out.write_all(&self.lines);
            let _ = self.out.flush();
            self.lines.clear();
        }
    }
}

impl<W: Write> Drop for Batch<W> {
    fn drop(&mut self) {
        self.flush();
    }
}

thread_local! {
    /// This thread's batch, when it batches (worker threads only). A batch
    /// goes out in one `write_all`, under stderr's lock, so batches of two
    /// threads never mix within a line.
    static BATCH: RefCell<Option<Batch<io::Stderr>>> = const { RefCell::new(None) };
}

/// Batches this thread's access-log lines from now on. The thread must
/// then call [`flush`] regularly ([`flush_every`]) and when it is done.
pub fn batch_this_thread() {
    BATCH.with(|b| *b.borrow_mut() = Some(Batch::new(io::stderr())));
}

/// Writes out this thread's batched lines.
pub fn flush() {
    BATCH.with(|b| {
        if let Ok(mut b) = b.try_borrow_mut() {
            if let Some(batch) = b.as_mut() {
                batch.flush();
            }
        }
    });
}

/// Flushes this thread's batch every `period`, for as long as the runtime
/// runs.
pub async fn flush_every(period: Duration) {
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tick.tick().await;
        flush();
    }
}

/// The writer `tracing-subscriber` asks for per event.
struct Output;

impl<'a> MakeWriter<'a> for Output {
    type Writer = EventWriter;

    fn make_writer(&'a self) -> EventWriter {
        EventWriter { batched: false }
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> EventWriter {
        EventWriter {
            batched: meta.target() == access_log::TARGET,
        }
    }
}

/// Writes one event's text: into the thread's batch for an access-log
/// line on a batching thread, else to stderr at once (after the thread's
/// batch).
struct EventWriter {
    batched: bool,
}

impl Write for EventWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_all(buf).map(|()| buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        let taken = BATCH.with(|b| match b.try_borrow_mut() {
            Ok(mut b) => match b.as_mut() {
                Some(batch) if self.batched => {
                    batch.push(buf);
                    true
                }
                Some(batch) => {
                    batch.flush();
                    false
                }
                None => false,
            },
            // Logging from inside a flush: not batched.
            Err(_) => false,
        });
        if taken {
            return Ok(());
        }
        io::stderr().lock().write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// Records each `write_all` separately.
    #[derive(Clone, Default)]
    struct Writes(Arc<Mutex<Vec<Vec<u8>>>>);

    impl Write for Writes {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.write_all(buf).map(|()| buf.len())
        }
        fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
            self.0.lock().unwrap().push(buf.to_vec());
            Ok(())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn lines_are_written_together_when_the_batch_fills_and_on_flush() {
        let writes = Writes::default();
        let mut batch = Batch::new(writes.clone());
        let line = [b'x'; 1000];
        for _ in 0..16 {
            batch.push(&line);
        }
        assert!(writes.0.lock().unwrap().is_empty(), "16 000 bytes wait");
        batch.push(&line);
        assert_eq!(writes.0.lock().unwrap().len(), 1, "17 000 bytes go");
        assert_eq!(writes.0.lock().unwrap()[0].len(), 17_000);
        batch.push(b"tail\n");
        batch.flush();
        batch.flush();
        assert_eq!(
            writes.0.lock().unwrap().len(),
            2,
            "an empty flush writes nothing"
        );
        assert_eq!(writes.0.lock().unwrap()[1], b"tail\n");
    }

    #[test]
    fn a_dropped_batch_writes_what_is_left() {
        let writes = Writes::default();
        let mut batch = Batch::new(writes.clone());
        batch.push(b"last line\n");
        drop(batch);
        assert_eq!(*writes.0.lock().unwrap(), vec![b"last line\n".to_vec()]);
    }
}
