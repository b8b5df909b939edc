//! What can stop a render. Every message names the file it is about.

use std::path::PathBuf;

use super::decode::DecodeError;
use crate::dsp::settings::SettingsError;

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error(transparent)]
    Report(#[from] super::report::ReportError),
    /// A job that breaks a rule (a range, a contradiction): the caller's mistake, refused
    /// before any work.
    #[error(transparent)]
    Job(#[from] super::job::JobError),
    /// The output folder (or a folder on the way to it) cannot be written. The cause is in
    /// the message and not a `source`, so a printed chain names it once.
    #[error("{}: the output folder is not writable ({cause})", .path.display())]
    OutputNotWritable {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("{path}: {source}")]
    Settings {
        path: PathBuf,
        source: SettingsError,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: already exists; pass --force to overwrite it")]
    OutputExists { path: PathBuf },
    #[error("{path}: would overwrite the input mix")]
    WouldOverwriteInput { path: PathBuf },
    #[error("resampling {from} Hz to {to} Hz failed: {detail}")]
    Resample { from: u32, to: u32, detail: String },
    #[error("{path}: verification failed: {detail}")]
    Verification { path: PathBuf, detail: String },
    #[error("{what}")]
    Unsupported { what: String },
    #[error(
        "{path}: not enough room for the deliverables ({needed_mb} MB needed, {free_mb} MB free)"
    )]
    NoRoom {
        path: PathBuf,
        needed_mb: u64,
        free_mb: u64,
    },
    #[error("{path}: {detail}")]
    Album { path: PathBuf, detail: String },
    /// A stem that does not fit its mix (rate, length, alignment), named by file and role.
    #[error("{path}: {detail}")]
    Stem { path: PathBuf, detail: String },
    #[error("stopped; nothing was written")]
    Cancelled,
    #[error("a worker thread stopped unexpectedly")]
    WorkerPanicked,
    #[error("{path}: cannot write WAV ({detail})")]
    Wav { path: PathBuf, detail: String },
    #[error("{path}: cannot encode {format} ({detail})")]
    Encode {
        path: PathBuf,
        format: &'static str,
        detail: String,
    },
    #[error(
        "{path}: the decoded MP3 still peaks at {true_peak_dbtp:.2} dBTP, over the \
         {ceiling_dbtp:.2} dBTP ceiling, after {attempts} encodes down to {gain_db:.2} dB of gain"
    )]
    CeilingNotMet {
        path: PathBuf,
        ceiling_dbtp: f64,
        true_peak_dbtp: f64,
        gain_db: f64,
        attempts: u32,
    },
}

impl RenderError {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}
