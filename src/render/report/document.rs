//! `report.json`: every figure the render measured, the pre-flight findings and the settings
//! used, as one serde value. The HTML page is drawn from the same value, so the two never
//! disagree.
//!
//! Figures a file may not have (the loudness of silence is -∞, which JSON cannot hold) are
//! `Option`s and appear as `null`.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::platforms::{platform_table, PlatformRow};
use crate::dsp::ChainSettings;
use crate::render::decode::SourceFormat;
use crate::render::destinations::Destination;
use crate::render::fade::Fades;
use crate::render::formats::Format;
use crate::render::measure::Measurement;
use crate::render::preflight::{Check, Severity};
use crate::render::reference::assist::AssistRecord;
use crate::render::reference::ReferenceRecord;
use crate::render::stems::StemsRecord;
use crate::render::{Loudness, RenderReport};

/// Version of the `report.json` layout; raised when a field changes meaning or goes away.
pub const SCHEMA_VERSION: u32 = 1;

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportDocument {
    /// [`SCHEMA_VERSION`].
    pub schema: u32,
    /// `"lathe"`.
    pub tool: String,
    pub tool_version: String,
    /// When the report was made, RFC 3339 in UTC (`2025-01-31T12:00:00Z`).
    pub created_utc: String,
    pub mix: MixRecord,
    /// Every pre-flight check, passed or not, in the order they ran.
    pub preflight: Vec<CheckRecord>,
    /// The settings the chain ran with (after clamping into range).
    pub settings: ChainSettings,
    /// Integrated loudness the master was aimed at; `None` when the render set no target.
    pub target_lufs: Option<f64>,
    /// How the target was met; `None` when the render set no target.
    pub loudness: Option<LoudnessRecord>,
    /// The limiter's true-peak ceiling.
    pub ceiling_dbtp: f64,
    /// The chain's latency at the mix's rate, trimmed from every deliverable.
    pub latency_samples: usize,
    /// The render's peak resident memory, bytes, where the system tells it (Linux).
    pub peak_memory_bytes: Option<u64>,
    /// Each written file, measured as decoded back from disk.
    pub deliverables: Vec<DeliverableRecord>,
    /// What the engineer should read before sending the files out.
    pub warnings: Vec<String>,
    /// What streaming platforms do to the level of the streaming master (see
    /// [`ReportDocument::streaming_master`]).
    pub platforms: Vec<PlatformRow>,
    /// The stems' checks, offsets, gains and loudness, when the render mastered stems.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stems: Option<StemsRecord>,
    /// Reference matching's curve, fitted sections, width per band and distances (`None`
    /// without `--reference`).
    #[serde(default)]
    pub reference: Option<ReferenceRecord>,
    /// The tonal-balance assistant's target and moves (`None` without `--assist`).
    #[serde(default)]
    pub assist: Option<AssistRecord>,
    /// Which file to send where (distributors, Bandcamp, video, CD plant, promo).
    #[serde(default)]
    pub destinations: Vec<Destination>,
    /// Spotify's advice when a loud master peaks above -2 dBTP.
    #[serde(default)]
    pub loud_master_note: Option<String>,
    /// The fades the master was given (none: both 0).
    #[serde(default)]
    pub fades: Fades,
    /// What was done, in plain words (`story::plain_summary`): the report's opening.
    #[serde(default)]
    pub summary: Vec<String>,
}

/// The input mix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MixRecord {
    pub path: String,
    /// "WAV", "AIFF" or "FLAC".
    pub container: String,
    pub bits_per_sample: Option<u32>,
    pub is_float: bool,
    pub channels: usize,
    pub measurement: MeasurementRecord,
}

/// How the loudness target was met (the renderer's [`Loudness`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LoudnessRecord {
    pub target_lufs: f64,
    /// The master's integrated loudness at the mix's rate.
    pub master_lufs: f64,
    /// Passes of the chain the solve took.
    pub passes: usize,
    /// Whether the target was reached within the renderer's tolerance.
    pub reached: bool,
    /// The gain before the limiter (drive plus learned gain), dB.
    #[serde(default)]
    pub gain_db: f32,
    pub drive_db: f32,
    pub output_gain_db: f32,
    /// The limiter's deepest gain reduction, dB (<= 0).
    pub peak_limiting_db: f32,
    /// How loud the master gets with 3 dB of limiting, when the target needed much more.
    pub loudness_at_moderate_limiting: Option<f64>,
}

impl From<&Loudness> for LoudnessRecord {
    fn from(l: &Loudness) -> Self {
        Self {
            target_lufs: l.target_lufs,
            master_lufs: l.master_lufs,
            passes: l.passes,
            reached: l.reached,
            gain_db: l.gain_db,
            drive_db: l.drive_db,
            output_gain_db: l.output_gain_db,
            peak_limiting_db: l.peak_limiting_db,
            loudness_at_moderate_limiting: l.loudness_at_moderate_limiting,
        }
    }
}

/// One pre-flight check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckRecord {
    pub name: String,
    pub passed: bool,
    /// "ok", "note", "warning" or "problem" (`preflight::Severity`).
    pub severity: Severity,
    pub detail: String,
}

/// One written file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliverableRecord {
    pub path: String,
    /// Container and coding in words, e.g. "WAV 44k1 / 16-bit", "MP3 320 kbps".
    pub format: String,
    /// The format's `--formats` name, e.g. "wav44-16", "mp3".
    pub format_id: String,
    pub sample_rate: u32,
    /// Word length of PCM formats; `None` for lossy codecs.
    pub bits: Option<u16>,
    pub channels: usize,
    pub measurement: MeasurementRecord,
    /// Gain the encoder stage took off to keep the decoded file under the ceiling, dB.
    pub codec_trim_db: f64,
    /// Codec notes, e.g. an encoder's version and mode.
    pub notes: Vec<String>,
}

/// A [`Measurement`] with its peak-to-loudness ratio, in JSON-safe form.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MeasurementRecord {
    pub integrated_lufs: Option<f64>,
    pub loudness_range_lu: Option<f64>,
    pub true_peak_dbtp: Option<f64>,
    pub sample_peak_dbfs: Option<f64>,
    /// Peak-to-loudness ratio: true peak minus integrated loudness (EBU Tech 3343 §5.2,
    /// AES TD1008): how much room the loudest peaks have above the average.
    pub plr_db: Option<f64>,
    pub duration_s: f64,
    pub sample_rate: u32,
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

impl From<&Measurement> for MeasurementRecord {
    fn from(m: &Measurement) -> Self {
        Self {
            integrated_lufs: finite(m.integrated_lufs),
            loudness_range_lu: finite(m.loudness_range_lu),
            true_peak_dbtp: finite(m.true_peak_dbtp),
            sample_peak_dbfs: finite(m.sample_peak_dbfs),
            plr_db: finite(m.true_peak_dbtp - m.integrated_lufs),
            duration_s: m.duration_s,
            sample_rate: m.sample_rate,
        }
    }
}

impl From<&Check> for CheckRecord {
    fn from(c: &Check) -> Self {
        Self {
            name: c.name.to_string(),
            passed: c.passed,
            severity: c.severity,
            detail: c.detail.clone(),
        }
    }
}

/// A path as text for the report (lossy where the name is not UTF-8).
pub fn path_text(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

impl ReportDocument {
    /// The report of a finished render: `source` and `channels` describe the mix as decoded.
    /// Settings, target and warnings are the render's; the platform table is computed from
    /// the streaming master.
    pub fn from_render(
        report: &RenderReport,
        source: &SourceFormat,
        channels: usize,
        created_utc: String,
    ) -> Self {
        let deliverables = report
            .deliverables
            .iter()
            .map(|d| DeliverableRecord {
                path: path_text(&d.path),
                format: d.format.to_string(),
                format_id: d.format.name().to_string(),
                sample_rate: d.measurement.sample_rate,
                bits: match d.format {
                    Format::Mp3 => None,
                    _ => Some(d.bits),
                },
                channels,
                measurement: MeasurementRecord::from(&d.measurement),
                codec_trim_db: d.codec_trim_db,
                notes: codec_notes(d.codec_trim_db),
            })
            .collect();
        let mut doc = Self {
            schema: SCHEMA_VERSION,
            tool: env!("CARGO_PKG_NAME").to_string(),
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            created_utc,
            mix: MixRecord {
                path: path_text(&report.mix),
                container: source.container.to_string(),
                bits_per_sample: source.bits_per_sample,
                is_float: source.is_float,
                channels,
                measurement: MeasurementRecord::from(&report.source),
            },
            preflight: report.preflight.iter().map(CheckRecord::from).collect(),
            settings: report.settings,
            target_lufs: report.loudness.map(|l| l.target_lufs),
            loudness: report.loudness.as_ref().map(LoudnessRecord::from),
            ceiling_dbtp: report.settings.limiter.ceiling_dbtp as f64,
            latency_samples: report.latency_samples,
            peak_memory_bytes: report.peak_memory_bytes,
            deliverables,
            warnings: report.warnings.clone(),
            platforms: Vec::new(),
            stems: report.stems.clone(),
            reference: report.reference.clone(),
            assist: report.assist.clone(),
            destinations: report.destinations.clone(),
            loud_master_note: report.loud_master_note.clone(),
            fades: report.fades,
            summary: Vec::new(),
        };
        doc.platforms = doc.master_platform_table();
        doc.summary = super::story::plain_summary(&doc);
        doc
    }

    /// The deliverable the streaming platforms get and the plots show: the first lossless
    /// one (the first of any kind when all are lossy).
    pub fn streaming_master(&self) -> Option<&DeliverableRecord> {
        self.deliverables
            .iter()
            .find(|d| d.bits.is_some())
            .or(self.deliverables.first())
    }

    /// The platform table of [`ReportDocument::streaming_master`] (empty without one).
    pub fn master_platform_table(&self) -> Vec<PlatformRow> {
        self.streaming_master()
            .map(|d| {
                let m = &d.measurement;
                platform_table(
                    m.integrated_lufs.unwrap_or(f64::NEG_INFINITY),
                    m.true_peak_dbtp.unwrap_or(f64::NEG_INFINITY),
                )
            })
            .unwrap_or_default()
    }

    /// The document as pretty-printed JSON.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self)
    }

    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }
}

/// Gains under this are no trim worth telling anyone about.
const NEGLIGIBLE_TRIM_DB: f64 = 0.005;

fn codec_notes(codec_trim_db: f64) -> Vec<String> {
    if codec_trim_db > NEGLIGIBLE_TRIM_DB {
        vec![format!(
            "the codec overshot the ceiling; its peaks were limited {codec_trim_db:.2} dB lower \
             (at the same loudness) so the decoded file holds it"
        )]
    } else {
        Vec::new()
    }
}

/// Now as RFC 3339 UTC, to the second.
pub fn utc_now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    rfc3339_utc(secs)
}

/// Seconds since the Unix epoch as RFC 3339 UTC, e.g. `1970-01-01T00:00:00Z`. The calendar
/// arithmetic is H. Hinnant's `civil_from_days` ("chrono-Compatible Low-Level Date
/// Algorithms"), exact for the proleptic Gregorian calendar.
pub fn rfc3339_utc(unix_s: u64) -> String {
    let days = (unix_s / 86_400) as i64;
    let rem = unix_s % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_format_as_rfc3339() {
        assert_eq!(rfc3339_utc(0), "1970-01-01T00:00:00Z");
        // 2000-02-29 (a leap day in a century leap year) 12:34:56.
        assert_eq!(rfc3339_utc(951_827_696), "2000-02-29T12:34:56Z");
        assert_eq!(rfc3339_utc(1_735_689_599), "2024-12-31T23:59:59Z");
    }

    #[test]
    fn plr_is_true_peak_minus_integrated_and_infinities_become_null() {
        let m = Measurement {
            integrated_lufs: -14.0,
            loudness_range_lu: 5.0,
            true_peak_dbtp: -1.0,
            sample_peak_dbfs: -1.2,
            duration_s: 1.0,
            sample_rate: 48_000,
        };
        assert_eq!(MeasurementRecord::from(&m).plr_db, Some(13.0));
        let silent = Measurement {
            integrated_lufs: f64::NEG_INFINITY,
            true_peak_dbtp: f64::NEG_INFINITY,
            sample_peak_dbfs: f64::NEG_INFINITY,
            ..m
        };
        let r = MeasurementRecord::from(&silent);
        assert_eq!(
            (r.integrated_lufs, r.plr_db, r.true_peak_dbtp),
            (None, None, None)
        );
    }
}
