//! GFM table rows: splitting cells and recognising the delimiter row.

/// The cells of a table row: outer pipes removed, split at unescaped pipes,
/// each cell trimmed.
pub(super) fn cells(row: &str) -> Vec<&str> {
    let row = row.trim();
    let row = row.strip_prefix('|').unwrap_or(row);
    let row = match row.strip_suffix('|') {
        Some(inner) if !inner.ends_with('\\') => inner,
        _ => row,
    };
    let mut cells = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (i, c) in row.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '|' => {
                cells.push(row[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    cells.push(row[start..].trim());
    cells
}

/// Characters a delimiter row is made of; any other character rules it out.
pub(super) fn is_delimiter_char(c: char) -> bool {
    matches!(c, '|' | '-' | ':' | ' ' | '\t' | '\r')
}

/// Whether `line` is a delimiter row for a header of `columns` cells:
/// `| --- | :---: |`, every cell dashes with optional alignment colons.
pub(super) fn is_delimiter_row(line: &str, columns: usize) -> bool {
    let cells = cells(line);
    cells.len() == columns
        && cells.iter().all(|cell| {
            let dashes = cell.trim_start_matches(':').trim_end_matches(':');
            !dashes.is_empty() && dashes.bytes().all(|b| b == b'-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_cells() {
        assert_eq!(cells("| a | b |"), ["a", "b"]);
        assert_eq!(cells("a | b"), ["a", "b"]);
        assert_eq!(cells("| a \\| b | c |"), ["a \\| b", "c"]);
        assert_eq!(cells("|"), [""]);
    }

    #[test]
    fn delimiter_rows() {
        assert!(is_delimiter_row("|---|:--:|", 2));
        assert!(is_delimiter_row("| --- | ---: |\r", 2));
        assert!(!is_delimiter_row("|---|---|", 3));
        assert!(!is_delimiter_row("| : |", 1));
        assert!(!is_delimiter_row("", 1));
    }
}
