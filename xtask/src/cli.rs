//! What the command lines share: how an error is printed and which exit code it gets, and the
//! "did you mean" of an unknown option.

use std::process::ExitCode;

/// A mistake in the command line itself (unknown option, value out of range, options that
/// contradict each other): exit code 2, as getopt-style tools use.
pub const USAGE_ERROR: u8 = 2;
/// A file that cannot be read or written, or a render that failed: exit code 1.
pub const FILE_ERROR: u8 = 1;
/// Stopped by Ctrl-C: 128 + SIGINT, as a shell reports a command the signal ended, so a
/// script can tell "stopped" from "failed".
pub const INTERRUPTED: u8 = 130;

/// A refusal of the command line: printed as one line, exit code 2.
#[derive(Debug)]
pub struct Usage(pub String);

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

/// Returns a usage refusal as an `anyhow` error (`return usage(...)`).
pub fn usage<T>(message: impl Into<String>) -> anyhow::Result<T> {
    Err(Usage(message.into()).into())
}

/// The error and its causes on one line, each cause once: library errors often repeat their
/// source in their own message (`x.toml: No such file or directory (os error 2)` with the
/// I/O error as its source), and printing the chain as it is would say it twice.
pub fn message(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

/// Prints `error: <message>` and returns the exit code its kind gets.
pub fn fail(e: &anyhow::Error) -> ExitCode {
    eprintln!("error: {}", message(e));
    let stopped = e
        .chain()
        .filter_map(|c| c.downcast_ref::<lathe::render::RenderError>())
        .any(|r| matches!(r, lathe::render::RenderError::Cancelled));
    if e.downcast_ref::<Usage>().is_some() {
        ExitCode::from(USAGE_ERROR)
    } else if stopped {
        ExitCode::from(INTERRUPTED)
    } else {
        ExitCode::from(FILE_ERROR)
    }
}

/// Levenshtein distance (insertions, deletions, substitutions), over characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

/// The known word nearest to `word`, when it is near enough to be a typo of it (at most a
/// third of its letters wrong, and at least two allowed): a far guess misleads more than none.
pub fn nearest<'a>(word: &str, known: &[&'a str]) -> Option<&'a str> {
    let allowed = (word.chars().count() / 3).max(2);
    known
        .iter()
        .map(|k| (edit_distance(word, k), *k))
        .filter(|(d, _)| *d <= allowed)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(edit_distance("--targt", "--target"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn the_nearest_option_is_suggested_only_when_near() {
        let known = ["--target", "--platform", "--ceiling", "--fade-out"];
        assert_eq!(nearest("--targt", &known), Some("--target"));
        assert_eq!(nearest("--fadeout", &known), Some("--fade-out"));
        assert_eq!(nearest("--xyzzy-plugh", &known), None);
    }

    #[test]
    fn each_cause_is_printed_once() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "gone (os error 2)");
        let e = anyhow::Error::new(io).context("x.toml: gone (os error 2)");
        assert_eq!(message(&e), "x.toml: gone (os error 2)");
    }
}
