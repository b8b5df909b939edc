//! The completion record a finished batch track leaves beside its masters,
//! `<name>.done.json`: what the track was made from (an MD5 of the inputs and options) and
//! what its report measured. A rerun skips a track whose record matches and whose files are
//! all there; anything else is rendered again.
//!
//! MD5 (the `md-5` crate, already here for the DDP checksums) detects a changed input; it is
//! no defence against someone forging a collision, which a mastering batch does not need.

use std::io::Read;
use std::path::{Path, PathBuf};

use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};

use super::manifest::Row;
use crate::render::{RenderJob, RenderReport};

/// Bumped when what the hash covers changes, so older records are redone.
const HASH_VERSION: &str = "lathe-batch-record 1";

/// One delivered file as the record keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedFile {
    pub file: String,
    pub format: String,
    pub integrated_lufs: f64,
    pub loudness_range_lu: f64,
    pub true_peak_dbtp: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// MD5 of the options and of every input file's bytes ([`inputs_hash`]).
    pub inputs_md5: String,
    pub lathe_version: String,
    pub deliverables: Vec<RecordedFile>,
    pub warnings: Vec<String>,
}

impl Record {
    pub fn from_report(inputs_md5: String, report: &RenderReport) -> Self {
        Self {
            inputs_md5,
            lathe_version: env!("CARGO_PKG_VERSION").to_string(),
            deliverables: report
                .deliverables
                .iter()
                .map(|d| RecordedFile {
                    file: d
                        .path
                        .file_name()
                        .unwrap_or_default()
                        .to_string_lossy()
                        .into_owned(),
                    format: d.format.to_string(),
                    integrated_lufs: d.measurement.integrated_lufs,
                    loudness_range_lu: d.measurement.loudness_range_lu,
                    true_peak_dbtp: d.measurement.true_peak_dbtp,
                })
                .collect(),
            warnings: report.warnings.clone(),
        }
    }

    /// The streaming master's loudness (the first lossless file, as the report picks it).
    pub fn integrated_lufs(&self) -> Option<f64> {
        self.deliverables
            .iter()
            .find(|d| !d.format.starts_with("MP3"))
            .or(self.deliverables.first())
            .map(|d| d.integrated_lufs)
    }

    /// The highest true peak of any delivered file.
    pub fn true_peak_dbtp(&self) -> Option<f64> {
        self.deliverables
            .iter()
            .map(|d| d.true_peak_dbtp)
            .reduce(f64::max)
    }
}

/// Where a job's record goes: beside its masters, named as they are.
pub fn record_path(job: &RenderJob) -> PathBuf {
    job.out_dir.join(format!("{}.done.json", job.master_name()))
}

/// MD5 over the row's options (every cell, paths as resolved) and the bytes of every file
/// it reads (mix, settings, reference), so a changed option or a re-exported mix redoes the
/// track, and a moved manifest with the same files does not.
pub fn inputs_hash(row: &Row) -> std::io::Result<String> {
    let mut md5 = Md5::new();
    md5.update(HASH_VERSION.as_bytes());
    for (column, value) in &row.cells {
        md5.update(format!("\n{column}={value}").as_bytes());
    }
    let mut buffer = vec![0; 1 << 16];
    for (column, path) in row.input_files() {
        md5.update(format!("\nfile {column}\n").as_bytes());
        let mut file = std::fs::File::open(&path)
            .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        loop {
            let n = file.read(&mut buffer)?;
            if n == 0 {
                break;
            }
            md5.update(&buffer[..n]);
        }
    }
    Ok(md5.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// The record at `path` when it matches `hash` and every file it lists is still there:
/// the track is done. A missing, unreadable or different record is `None`: render again.
pub fn matching(path: &Path, hash: &str) -> Option<Record> {
    let text = std::fs::read_to_string(path).ok()?;
    let record: Record = serde_json::from_str(&text).ok()?;
    let dir = path.parent()?;
    (record.inputs_md5 == hash
        && record
            .deliverables
            .iter()
            .all(|d| dir.join(&d.file).is_file()))
    .then_some(record)
}

/// Writes the record: to a temporary name, then renamed, so a kill leaves the old record or
/// the new one, never half of one.
pub fn write(path: &Path, record: &Record) -> std::io::Result<()> {
    let text = serde_json::to_string_pretty(record).map_err(std::io::Error::other)?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        path.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id()
    ));
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_follows_options_and_file_bytes() {
        let dir = std::env::temp_dir().join(format!("lathe-record-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mix = dir.join("mix.wav");
        std::fs::write(&mix, b"one").unwrap();
        let row = |target: &str| Row {
            line: 2,
            cells: vec![
                ("mix", mix.to_string_lossy().into_owned()),
                ("out", "o".into()),
                ("target", target.into()),
            ],
        };
        let a = inputs_hash(&row("-14")).unwrap();
        assert_eq!(a, inputs_hash(&row("-14")).unwrap());
        assert_ne!(a, inputs_hash(&row("-16")).unwrap());
        std::fs::write(&mix, b"two").unwrap();
        assert_ne!(a, inputs_hash(&row("-14")).unwrap());

        let record = Record {
            inputs_md5: a.clone(),
            lathe_version: "0".into(),
            deliverables: vec![RecordedFile {
                file: "mix.wav".into(),
                format: "WAV".into(),
                integrated_lufs: -14.0,
                loudness_range_lu: 5.0,
                true_peak_dbtp: -1.2,
            }],
            warnings: vec![],
        };
        let path = dir.join("mix.done.json");
        write(&path, &record).unwrap();
        assert_eq!(matching(&path, &a), Some(record));
        assert_eq!(matching(&path, "other"), None);
        std::fs::remove_file(&mix).unwrap();
        assert_eq!(matching(&path, &a), None, "a missing master is redone");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
