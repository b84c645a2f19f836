//! The filter's output buffer, which remembers the last character it wrote so
//! that removed symbols leave at most one space behind.

/// Text released by the filter, plus the last character ever released.
#[derive(Debug)]
pub(super) struct Output {
    text: String,
    last: char,
}

impl Output {
    pub(super) fn new() -> Self {
        Output {
            text: String::new(),
            last: '\n',
        }
    }

    pub(super) fn push(&mut self, c: char) {
        self.text.push(c);
        self.last = c;
    }

    pub(super) fn push_str(&mut self, s: &str) {
        if let Some(c) = s.chars().next_back() {
            self.text.push_str(s);
            self.last = c;
        }
    }

    /// Writes a space unless the output already ends in whitespace: what a
    /// removed emoji or symbol leaves behind, so words either side stay apart.
    pub(super) fn separate(&mut self) {
        if !self.last.is_whitespace() {
            self.push(' ');
        }
    }

    /// Hands out what was written since the last call.
    pub(super) fn take(&mut self) -> String {
        std::mem::take(&mut self.text)
    }
}
