//! What can stop a DDP image from being written or read.

use std::path::PathBuf;

use super::redbook::Msf;

/// A Red Book rule the disc breaks. All of them are found before anything is written.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Violation {
    #[error("the disc has no tracks; a CD holds 1 to 99")]
    NoTracks,
    #[error("the disc has {count} tracks; a CD holds at most 99 (Red Book)")]
    TooManyTracks { count: usize },
    #[error("track {track} is {seconds:.2} s long; the Red Book's shortest track is 4 s")]
    TrackTooShort { track: usize, seconds: f64 },
    #[error(
        "the programme runs {length} (pre-gaps included); it must end before 79:57:00 to fit \
         a standard disc"
    )]
    ProgramTooLong { length: Msf },
    #[error(
        "track 1's pre-gap is {sectors} frames; it must be the Red Book's 2 seconds (150 frames of \
         1/75 s); put any further silence into the track's audio"
    )]
    FirstPregap { sectors: u32 },
    #[error("a gap of {seconds} s is not a whole number of CD frames (1/75 s, 588 samples)")]
    GapNotWholeFrames { seconds: f64 },
    #[error("track {track}: ISRC \"{isrc}\" is not of the form CC-XXX-YY-NNNNN: {reason}")]
    BadIsrc {
        track: usize,
        isrc: String,
        reason: String,
    },
    #[error("UPC/EAN \"{upc}\": {reason}")]
    BadUpc { upc: String, reason: String },
    #[error(
        "{field}: {ch:?} (U+{code:04X}) cannot be written in CD-TEXT, which holds ISO 8859-1 \
         text without control characters",
        code = *ch as u32
    )]
    CdTextCharacter { field: String, ch: char },
    #[error(
        "the CD-TEXT needs {packs} packs but one block holds at most {max}; shorten the titles \
         or names"
    )]
    CdTextTooLong { packs: usize, max: usize },
}

/// Why a DDP image was not written, or cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum DdpError {
    #[error("not a Red Book audio CD, nothing was written: {}", list(.problems))]
    RedBook { problems: Vec<Violation> },
    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: already exists; pass --force to replace it", .path.display())]
    OutputExists { path: PathBuf },
    #[error("{}: not a DDP 2.00 audio image: {detail}", .path.display())]
    Malformed { path: PathBuf, detail: String },
    #[error("{}: verification failed, nothing was delivered: {detail}", .path.display())]
    Verification { path: PathBuf, detail: String },
}

impl DdpError {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn malformed(path: impl Into<PathBuf>, detail: impl Into<String>) -> Self {
        Self::Malformed {
            path: path.into(),
            detail: detail.into(),
        }
    }

    /// The Red Book rules broken, when that is why the image was refused.
    pub fn violations(&self) -> &[Violation] {
        match self {
            Self::RedBook { problems } => problems,
            _ => &[],
        }
    }
}

fn list(problems: &[Violation]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}
