//! The final output: aligned tables on stdout, or one JSON document with
//! `--json`. Progress goes to stderr (see [`progress`]) so stdout stays
//! machine-readable.

use serde_json::{json, Map, Value};

/// Prints a progress line on stderr.
pub fn progress(line: impl AsRef<str>) {
    eprintln!("[bench] {}", line.as_ref());
}

/// One table: a title, column names and rows of cells.
#[derive(Debug, Clone)]
pub struct Table {
    /// What the table shows.
    pub title: String,
    /// Column names.
    pub columns: Vec<&'static str>,
    /// Rows, each as many cells as there are columns.
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// An empty table.
    pub fn new(title: impl Into<String>, columns: &[&'static str]) -> Self {
        Table {
            title: title.into(),
            columns: columns.to_vec(),
            rows: Vec::new(),
        }
    }

    /// Adds a row (missing cells are left empty, extra ones dropped).
    pub fn row(&mut self, cells: Vec<String>) {
        let mut cells = cells;
        cells.resize(self.columns.len(), String::new());
        self.rows.push(cells);
    }

    /// The table as aligned text.
    pub fn render(&self) -> String {
        let widths: Vec<usize> = (0..self.columns.len())
            .map(|i| {
                self.rows
                    .iter()
                    .map(|r| r[i].len())
                    .chain([self.columns[i].len()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |cells: Vec<&str>| {
            cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect::<Vec<_>>()
                .join("  ")
                .trim_end()
                .to_owned()
        };
        let mut out = format!("== {}\n", self.title);
        out.push_str(&line(self.columns.clone()));
        out.push('\n');
        out.push_str(&line(
            widths
                .iter()
                .map(|w| &"----------------------------------------"[..(*w).min(40)])
                .collect(),
        ));
        out.push('\n');
        for row in &self.rows {
            out.push_str(&line(row.iter().map(String::as_str).collect()));
            out.push('\n');
        }
        out
    }

    /// The table as JSON: its title and one object per row.
    pub fn to_json(&self) -> Value {
        let rows: Vec<Value> = self
            .rows
            .iter()
            .map(|row| {
                let object: Map<String, Value> = self
                    .columns
                    .iter()
                    .zip(row)
                    .map(|(c, v)| ((*c).to_owned(), Value::String(v.clone())))
                    .collect();
                Value::Object(object)
            })
            .collect();
        json!({"title": self.title, "columns": self.columns, "rows": rows})
    }
}

/// Everything one subcommand measured.
#[derive(Debug, Clone)]
pub struct Report {
    /// The subcommand.
    pub command: &'static str,
    /// `in-process` or `external`.
    pub server: &'static str,
    /// The tables, in order.
    pub tables: Vec<Table>,
}

impl Report {
    /// Writes the report to stdout, as text or JSON.
    pub fn print(&self, as_json: bool) {
        if as_json {
            let doc = json!({
                "command": self.command,
                "server": self.server,
                "cores": crate::target::cores(),
                "tables": self.tables.iter().map(Table::to_json).collect::<Vec<_>>(),
            });
            println!("{doc:#}");
        } else {
            println!(
                "# understudy-bench {} ({} server, {} cores)",
                self.command,
                self.server,
                crate::target::cores()
            );
            for table in &self.tables {
                println!("{}", table.render());
            }
        }
    }
}

/// Bytes as MiB with one decimal.
pub fn mib(bytes: u64) -> String {
    format!("{:.1}", bytes as f64 / (1024.0 * 1024.0))
}

/// A value that may be unknown (`n/a`).
pub fn or_na<T>(value: Option<T>, show: impl FnOnce(T) -> String) -> String {
    value.map(show).unwrap_or_else(|| "n/a".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_and_convert_to_json() {
        let mut t = Table::new("t", &["a", "long_column"]);
        t.row(vec!["1234567".into(), "x".into()]);
        t.row(vec!["1".into()]);
        let text = t.render();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "== t");
        assert_eq!(lines[1], "a        long_column");
        assert_eq!(lines[3], "1234567  x");
        assert_eq!(lines[4], "1");
        let j = t.to_json();
        assert_eq!(j["rows"][0]["long_column"], "x");
        assert_eq!(j["rows"][1]["long_column"], "");
    }
}
