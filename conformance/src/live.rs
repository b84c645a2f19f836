//! Printing a run as it happens: each case's line the moment it finishes,
//! and, on a terminal, a progress line kept under them.
//!
//! [`LivePrinter`] is what `conform` hands to the scheduler's `on_finished`
//! (see `schedule`). Result lines go to one writer (standard output); the
//! progress line (`[41/70] running: 12 in flight…`) goes to another
//! (standard error) and only when that one is a terminal: it is rewritten in
//! place with `\r` and cleared before each result line, so the result lines
//! stay whole. When it is not a terminal nothing but plain lines is written:
//! no carriage returns, no escape sequences.
//!
//! A reader that goes away (`conform | head`) is not an error: the first
//! failed write (a broken pipe) stops the printing, the run carries on, and
//! [`LivePrinter::closed`] says so.

use crate::grade::CaseResult;
use crate::report::text::case_lines;
use crate::schedule::Progress;
use std::io::{self, Write};

/// Clears the terminal's current line: back to its start, then erase it.
const CLEAR_LINE: &str = "\r\x1b[2K";

/// Prints results as they finish, with a progress line on a terminal.
#[derive(Debug)]
pub struct LivePrinter<O: Write, P: Write> {
    out: O,
    /// Where the progress line goes; `None` when that is not a terminal.
    progress: Option<P>,
    /// The width ids are padded to (the run's longest id).
    width: usize,
    /// Whether the progress line is showing (and must be cleared first).
    showing: bool,
    /// Set once a write to `out` failed: nothing more is printed there.
    closed: bool,
}

impl<O: Write, P: Write> LivePrinter<O, P> {
    /// A printer writing result lines to `out` and, if `progress` is given
    /// (a terminal), the progress line there; ids are padded to `width`.
    pub fn new(out: O, progress: Option<P>, width: usize) -> Self {
        LivePrinter {
            out,
            progress,
            width,
            showing: false,
            closed: false,
        }
    }

    /// Shows the progress line for a run of `total` cases that is starting.
    pub fn started(&mut self, total: usize) {
        self.show(Progress {
            finished: 0,
            total,
            running: 0,
        });
    }

    /// Prints `result`'s lines, then the progress line again.
    pub fn finished(&mut self, result: &CaseResult, progress: Progress) {
        self.clear();
        self.write(&case_lines(result, self.width));
        self.show(progress);
    }

    /// Clears the progress line: the run is over.
    pub fn done(&mut self) {
        self.clear();
    }

    /// Writes `text` to the result writer, unless it has gone away.
    pub fn write(&mut self, text: &str) {
        if self.closed {
            return;
        }
        if let Err(e) = self
            .out
            .write_all(text.as_bytes())
            .and_then(|()| self.out.flush())
        {
            if e.kind() != io::ErrorKind::BrokenPipe {
                tracing::warn!(error = %e, "could not print the results; printing stops");
            }
            self.closed = true;
        }
    }

    /// Whether the result writer went away (its reader closed the pipe).
    pub fn closed(&self) -> bool {
        self.closed
    }

    fn show(&mut self, progress: Progress) {
        let Some(err) = &mut self.progress else {
            return;
        };
        let line = match progress.finished {
            0 => format!("[0/{}] starting…", progress.total),
            n => format!(
                "[{n}/{}] running: {} in flight…",
                progress.total, progress.running
            ),
        };
        // The progress line is a courtesy: a failure to draw it is ignored.
        self.showing = err
            .write_all(line.as_bytes())
            .and_then(|()| err.flush())
            .is_ok();
    }

    fn clear(&mut self) {
        if let (true, Some(err)) = (self.showing, &mut self.progress) {
            let _ = err
                .write_all(CLEAR_LINE.as_bytes())
                .and_then(|()| err.flush());
        }
        self.showing = false;
    }
}

#[cfg(test)]
mod tests {
    use super::LivePrinter;
    use crate::grade::{blank, Grade};
    use crate::schedule::Progress;
    use std::io::{self, Write};

    fn result(id: &str, grade: Grade) -> crate::CaseResult {
        let mut r = blank(id.into(), "a test case");
        r.grade = grade;
        if grade == Grade::Failed {
            r.reason = Some("it broke".into());
        }
        r
    }

    fn progress(finished: usize) -> Progress {
        Progress {
            finished,
            total: 2,
            running: 2 - finished,
        }
    }

    #[test]
    fn not_on_a_terminal_only_plain_lines_are_written() {
        let mut out = Vec::new();
        let mut printer = LivePrinter::new(&mut out, None::<Vec<u8>>, 8);
        printer.started(2);
        printer.finished(&result("b.case", Grade::Failed), progress(1));
        printer.finished(&result("a.case", Grade::Ok), progress(2));
        printer.done();
        let text = String::from_utf8(out).unwrap();
        assert!(!text.contains('\r') && !text.contains('\x1b'), "{text:?}");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(lines[0].contains("FAILED") && lines[0].contains("b.case"));
        assert!(lines[1].contains("↳ it broke"));
        assert!(lines[2].contains("OK") && lines[2].contains("a.case"));
    }

    #[test]
    fn on_a_terminal_the_progress_line_is_cleared_before_each_result() {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let mut printer = LivePrinter::new(&mut out, Some(&mut err), 8);
        printer.started(2);
        printer.finished(&result("a.case", Grade::Ok), progress(1));
        printer.done();
        let err = String::from_utf8(err).unwrap();
        assert_eq!(
            err,
            "[0/2] starting…\r\x1b[2K[1/2] running: 1 in flight…\r\x1b[2K"
        );
        assert!(String::from_utf8(out).unwrap().contains("a.case"));
    }

    /// A writer whose reader has gone away.
    struct Gone;

    impl Write for Gone {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_closed_pipe_stops_the_printing_without_an_error() {
        let mut printer = LivePrinter::new(Gone, None::<Vec<u8>>, 8);
        printer.finished(&result("a.case", Grade::Ok), progress(1));
        assert!(printer.closed());
        printer.write("more");
        assert!(printer.closed());
    }
}
