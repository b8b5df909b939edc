//! The batch manifest: a CSV file, a header naming the columns and one row per track. Every
//! column is a `render` option under its own name (`target`, `platform`, `formats`,
//! `settings`, `reference`, `title`, …), `mix` is the mix and `out` the track's output
//! folder. An empty cell leaves the option out.
//!
//! The CSV is RFC 4180 (quoted fields, `""` inside quotes, CRLF or LF). No CSV crate is in
//! the lock file and the registry could not be reached when this was written, so the reader
//! is the few lines below; blank lines and lines starting with `#` are skipped, so a manifest
//! can carry notes.

use std::path::{Path, PathBuf};

/// What a column's cells hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A file or folder, relative to the manifest's folder unless absolute.
    Path,
    /// A value passed to the option as it is written.
    Value,
    /// An option without a value: `yes`/`true`/`1` sets it, `no`/`false`/`0` or empty not.
    Flag,
}

/// Every column a manifest may have, each named as the `render` option it sets.
pub const COLUMNS: &[(&str, Kind)] = &[
    ("mix", Kind::Path),
    ("out", Kind::Path),
    ("target", Kind::Value),
    ("platform", Kind::Value),
    ("ceiling", Kind::Value),
    ("formats", Kind::Value),
    ("settings", Kind::Path),
    ("reference", Kind::Path),
    ("match-amount", Kind::Value),
    ("match-smoothing", Kind::Value),
    ("assist", Kind::Flag),
    ("assist-amount", Kind::Value),
    ("title", Kind::Value),
    ("artist", Kind::Value),
    ("isrc", Kind::Value),
    ("year", Kind::Value),
    ("fade-in", Kind::Value),
    ("fade-out", Kind::Value),
    ("noise-shaping", Kind::Flag),
    ("as-set", Kind::Flag),
];

/// Columns every manifest needs: without them a row names no track or no place for it.
pub const REQUIRED: &[&str] = &["mix", "out"];

/// A refused row (or header), by its 1-based line in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub line: usize,
    pub message: String,
    /// The column name that is not one of [`COLUMNS`], so a command line can suggest the
    /// nearest one.
    pub unknown_column: Option<String>,
}

impl RowError {
    pub fn new(line: usize, message: impl Into<String>) -> Self {
        Self {
            line,
            message: message.into(),
            unknown_column: None,
        }
    }
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// One track of the manifest: the non-empty cells, paths resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The 1-based line the row starts on.
    pub line: usize,
    /// `(column, value)` in the order of [`COLUMNS`]; flags that are set hold `"yes"`.
    pub cells: Vec<(&'static str, String)>,
}

impl Row {
    pub fn get(&self, column: &str) -> Option<&str> {
        self.cells
            .iter()
            .find(|(c, _)| *c == column)
            .map(|(_, v)| v.as_str())
    }

    /// The files the row reads (mix, settings, reference): what its completion record hashes.
    pub fn input_files(&self) -> Vec<(&'static str, PathBuf)> {
        self.cells
            .iter()
            .filter(|(c, _)| *c != "out" && kind(c) == Some(Kind::Path))
            .map(|(c, v)| (*c, PathBuf::from(v)))
            .collect()
    }
}

fn kind(column: &str) -> Option<Kind> {
    COLUMNS.iter().find(|(c, _)| *c == column).map(|(_, k)| *k)
}

/// The records of a CSV text, each with the line it starts on.
pub fn records(text: &str) -> Result<Vec<(usize, Vec<String>)>, RowError> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line = 1;
    while chars.peek().is_some() {
        let start = line;
        // Blank lines and notes are no records.
        if matches!(chars.peek(), Some('\n' | '\r' | '#')) {
            for c in chars.by_ref() {
                if c == '\n' {
                    line += 1;
                    break;
                }
            }
            continue;
        }
        let mut fields = Vec::new();
        let mut field = String::new();
        let mut quoted = false;
        let mut was_quoted = false;
        loop {
            let Some(c) = chars.next() else {
                if quoted {
                    return Err(RowError::new(start, "a quoted field is not closed"));
                }
                break;
            };
            if c == '\n' {
                line += 1;
            }
            match c {
                '"' if quoted => {
                    if chars.peek() == Some(&'"') {
                        chars.next();
                        field.push('"');
                    } else {
                        quoted = false;
                    }
                }
                '"' if field.is_empty() && !was_quoted => {
                    quoted = true;
                    was_quoted = true;
                }
                _ if quoted => field.push(c),
                ',' => {
                    fields.push(std::mem::take(&mut field));
                    was_quoted = false;
                }
                '\r' if chars.peek() == Some(&'\n') => {}
                '\n' => break,
                _ => field.push(c),
            }
        }
        fields.push(field);
        out.push((start, fields));
    }
    Ok(out)
}

/// A field as CSV writes it: quoted when it holds a comma, a quote or a line break.
pub fn quote(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

fn flag(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "" | "no" | "false" | "0" => Some(false),
        "yes" | "true" | "1" | "x" => Some(true),
        _ => None,
    }
}

/// Reads a manifest; relative paths are taken from `base` (the manifest's folder), so the
/// manifest means the same from any working folder. Returns the good rows and every bad one
/// (not only the first), so a caller can check the good rows further and name every mistake
/// at once; a bad header leaves no rows.
pub fn parse(text: &str, base: &Path) -> (Vec<Row>, Vec<RowError>) {
    match parse_all(text, base) {
        Ok(parsed) => parsed,
        Err(e) => (Vec::new(), e),
    }
}

fn parse_all(text: &str, base: &Path) -> Result<(Vec<Row>, Vec<RowError>), Vec<RowError>> {
    let records = records(text).map_err(|e| vec![e])?;
    let mut records = records.into_iter();
    let Some((header_line, header)) = records.next() else {
        return Err(vec![RowError::new(1, "the manifest is empty")]);
    };
    let mut errors = Vec::new();
    let mut columns: Vec<Option<&'static str>> = Vec::new();
    for name in &header {
        // `fade_in` and `Fade-In` are `fade-in`: spreadsheets like underscores and capitals.
        let name = name.trim().to_ascii_lowercase().replace('_', "-");
        match COLUMNS.iter().find(|(c, _)| *c == name) {
            Some((c, _)) if columns.contains(&Some(*c)) => {
                errors.push(RowError::new(
                    header_line,
                    format!("column `{c}` appears twice"),
                ));
                columns.push(None);
            }
            Some((c, _)) => columns.push(Some(*c)),
            None => {
                errors.push(RowError {
                    line: header_line,
                    message: format!("unknown column `{name}`"),
                    unknown_column: Some(name),
                });
                columns.push(None);
            }
        }
    }
    for required in REQUIRED {
        if !columns.contains(&Some(*required)) {
            errors.push(RowError::new(
                header_line,
                format!("no `{required}` column (every manifest needs mix and out)"),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut rows = Vec::new();
    for (line, fields) in records {
        if fields.len() != columns.len() {
            errors.push(RowError::new(
                line,
                format!(
                    "{} fields, the header has {} columns",
                    fields.len(),
                    columns.len()
                ),
            ));
            continue;
        }
        let mut cells = Vec::new();
        let mut bad = None;
        for (column, value) in columns.iter().zip(fields) {
            let (Some(column), value) = (column, value.trim()) else {
                continue;
            };
            match kind(column) {
                Some(Kind::Flag) => match flag(value) {
                    Some(true) => cells.push((*column, "yes".to_string())),
                    Some(false) => {}
                    None => {
                        bad.get_or_insert(format!("{column}: `{value}` is not yes or no"));
                    }
                },
                _ if value.is_empty() => {}
                Some(Kind::Path) => {
                    let path = base.join(value);
                    cells.push((*column, path.to_string_lossy().into_owned()));
                }
                _ => cells.push((*column, value.to_string())),
            }
        }
        cells.sort_by_key(|(c, _)| COLUMNS.iter().position(|(k, _)| k == c));
        let row = Row { line, cells };
        for required in REQUIRED {
            if row.get(required).is_none() {
                bad.get_or_insert(format!("no {required} given"));
            }
        }
        if bad.is_none() {
            for (column, path) in row.input_files() {
                if !path.is_file() {
                    bad = Some(format!("{column}: {}: no such file", path.display()));
                    break;
                }
            }
        }
        match bad {
            Some(message) => errors.push(RowError::new(line, message)),
            None => rows.push(row),
        }
    }
    if rows.is_empty() && errors.is_empty() {
        errors.push(RowError::new(header_line, "the manifest has no tracks"));
    }
    Ok((rows, errors))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_fields_keep_commas_quotes_and_line_breaks() {
        let r = records("a,\"b,c\",\"say \"\"hi\"\"\"\r\n\"two\nlines\",x,\n").unwrap();
        assert_eq!(
            r[0],
            (1, vec!["a".into(), "b,c".into(), "say \"hi\"".into()])
        );
        assert_eq!(r[1], (2, vec!["two\nlines".into(), "x".into(), "".into()]));
        assert!(records("a,\"open\n").is_err());
        assert_eq!(quote("b,c"), "\"b,c\"");
        assert_eq!(quote("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(quote("plain"), "plain");
    }

    #[test]
    fn rows_resolve_paths_and_skip_notes_and_blank_lines() {
        let dir = std::env::temp_dir().join(format!("lathe-manifest-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a.wav"), b"x").unwrap();
        let text =
            "Mix,out,Target,noise_shaping,title\n# a note\n\na.wav,masters/a,-14,yes,\"A, B\"\n";
        let (rows, errors) = parse(text, &dir);
        assert_eq!((rows.len(), errors), (1, vec![]));
        let row = &rows[0];
        assert_eq!(row.line, 4);
        assert_eq!(row.get("mix"), Some(dir.join("a.wav").to_str().unwrap()));
        assert_eq!(row.get("target"), Some("-14"));
        assert_eq!(row.get("noise-shaping"), Some("yes"));
        assert_eq!(row.get("title"), Some("A, B"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn every_bad_row_is_named_by_its_line() {
        let dir = std::env::temp_dir();
        let (_, e) = parse("mix,out,trget\n", &dir);
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].unknown_column.as_deref(), Some("trget"));
        assert!(parse("mix,title\n", &dir).1[0].message.contains("`out`"));
        let e = parse(
            "mix,out,assist\nnowhere.wav,o,\n,o,\nx,o,maybe\nx,o\n",
            &dir,
        )
        .1;
        let lines: Vec<usize> = e.iter().map(|e| e.line).collect();
        assert_eq!(lines, [2, 3, 4, 5], "{e:?}");
        assert!(e[0].message.contains("no such file"));
        assert!(e[1].message.contains("no mix"));
        assert!(e[2].message.contains("yes or no"));
        assert!(e[3].to_string().starts_with("line 5: 2 fields"));
    }
}
