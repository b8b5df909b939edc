//! The album report: `album_report.json` (every figure, machine-readable) and
//! `album_report.html` (one self-contained page with the album's loudness picture), both drawn
//! from one [`AlbumReportDocument`], as the per-track `report.json` and `report.html` are.
//!
//! Every track's figures are those of its delivered 44.1 kHz / 16-bit file as decoded back from
//! disk (the audio the CD carries); the album's are those of the continuous CD stream
//! (`album_44k1_16bit.wav`), decoded back the same way. Times on the CD are counted from the
//! start of the programme area, that is from the first sample of track 1's 2-second pre-gap,
//! as the PQ descriptor and a CD player's absolute time count them (IEC 60908).

use serde::{Deserialize, Serialize};

use super::spec::{Album, AlbumLoudness};
use super::{AlbumTrackReport, CD_FORMAT};
use crate::render::ddp::{redbook, DdpSummary, Msf};
use crate::render::measure::Measurement;
use crate::render::report::document::{path_text, MeasurementRecord};

/// File names of the album's report, in the album's output folder.
pub const JSON_NAME: &str = "album_report.json";
pub const HTML_NAME: &str = "album_report.html";
/// The album's loudness picture, also embedded in the HTML page.
pub const PNG_NAME: &str = "album_loudness.png";

/// Version of the `album_report.json` layout; raised when a field changes meaning or goes away.
pub const SCHEMA_VERSION: u32 = 1;

/// A place or a length on the CD, in the three forms people use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CdTime {
    /// MM:SS:FF, frames of 1/75 s, as the PQ descriptor and `ddp-info` print it.
    pub msf: String,
    /// CD frames (sectors) of 1/75 s.
    pub sectors: u32,
    /// `sectors / 75`.
    pub seconds: f64,
}

impl CdTime {
    pub fn from_sectors(sectors: u32) -> Self {
        Self {
            msf: Msf::from_sectors(sectors).to_string(),
            sectors,
            seconds: f64::from(sectors) / f64::from(redbook::SECTORS_PER_SECOND),
        }
    }
}

/// One track on the album.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlbumTrackRecord {
    pub number: usize,
    pub title: String,
    pub artist: String,
    /// The 12 characters the PQ data carries (`CCXXXYYNNNNN`), when the track has one.
    pub isrc: Option<String>,
    /// The mix the track was mastered from.
    pub mix: String,
    /// The delivered 44.1 kHz / 16-bit file, whose audio the CD carries sample for sample.
    pub file: String,
    /// Where the gap before the track starts (index 00); `None` for a gapless start.
    pub index0: Option<CdTime>,
    /// Where the track's audio starts (index 01), counted from the start of the CD's
    /// programme area, track 1's pre-gap included.
    pub start: CdTime,
    /// Silence before the track: track 1's is the Red Book's 2-second pre-gap.
    pub gap_before: CdTime,
    /// From index 01 to the next track's gap (or the lead-out): the audio and the silence that
    /// fills its last CD frame.
    pub cd_length: CdTime,
    /// Integrated loudness the track was mastered to: the album's target, or (album mode) the
    /// mix's distance below the loudest mix, plus `gain_db`.
    pub target_lufs: f64,
    /// The album file's `gain_db` for the track, in the target.
    pub gain_db: f64,
    /// The mix's integrated loudness.
    pub mix_lufs: Option<f64>,
    /// The delivered file's integrated loudness minus the mix's: what mastering added.
    pub mix_to_master_db: Option<f64>,
    /// The limiter's true-peak ceiling for the track.
    pub ceiling_dbtp: f64,
    /// The limiter's deepest gain reduction, dB (<= 0), when the render solved for a target.
    pub peak_limiting_db: Option<f64>,
    /// The delivered 44.1 kHz / 16-bit file as decoded back from disk.
    pub measurement: MeasurementRecord,
}

/// The whole album report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlbumReportDocument {
    /// [`SCHEMA_VERSION`].
    pub schema: u32,
    pub tool: String,
    pub tool_version: String,
    /// RFC 3339 in UTC.
    pub created_utc: String,
    pub title: String,
    pub artist: String,
    pub upc_ean: Option<String>,
    pub year: Option<String>,
    /// `"album"` (the loudest track to the target, the others at their distance from the
    /// mixes) or `"track"` (every track to the target).
    pub loudness_mode: AlbumLoudness,
    pub target_lufs: f64,
    /// The continuous CD stream from track 1's first sample to the lead-out, gaps included,
    /// as decoded back from `album_44k1_16bit.wav`.
    pub album: MeasurementRecord,
    /// The lead-out: the programme's running time, track 1's pre-gap included.
    pub lead_out: CdTime,
    pub tracks: Vec<AlbumTrackRecord>,
    pub ddp_dir: String,
    pub cd_stream: String,
    pub loudness_png: String,
    /// What the engineer should read before sending the album out.
    pub warnings: Vec<String>,
}

/// What [`AlbumReportDocument::build`] reads.
pub struct AlbumReportInput<'a> {
    pub album: &'a Album,
    pub target_lufs: f64,
    pub tracks: &'a [AlbumTrackReport],
    pub ddp: &'a DdpSummary,
    /// The CD stream as decoded back.
    pub stream: &'a Measurement,
    pub cd_stream: &'a std::path::Path,
    pub loudness_png: &'a std::path::Path,
    pub warnings: &'a [String],
    pub created_utc: String,
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

impl AlbumReportDocument {
    pub fn build(input: AlbumReportInput<'_>) -> Self {
        let mut warnings = input.warnings.to_vec();
        let tracks: Vec<AlbumTrackRecord> = input
            .tracks
            .iter()
            .zip(&input.album.tracks)
            .zip(&input.ddp.tracks)
            .map(|((t, spec), on_disc)| track_record(t, spec, on_disc))
            .collect();
        let album = MeasurementRecord::from(input.stream);
        // Every track holds its ceiling on its own; a join between two gapless tracks can
        // still overshoot once the player's reconstruction filter spans both.
        let ceiling = tracks
            .iter()
            .map(|t| t.ceiling_dbtp)
            .fold(f64::INFINITY, f64::min);
        if let Some(tp) = album.true_peak_dbtp.filter(|&tp| tp > ceiling + 1e-9) {
            warnings.push(format!(
                "the continuous CD stream peaks at {tp:.2} dBTP, over the {ceiling:.1} dBTP \
                 ceiling: a join between two tracks overshoots"
            ));
        }
        Self {
            schema: SCHEMA_VERSION,
            tool: env!("CARGO_PKG_NAME").to_string(),
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            created_utc: input.created_utc,
            title: input.album.title.clone(),
            artist: input.album.artist.clone(),
            upc_ean: input.album.upc_ean.clone(),
            year: input.album.year.clone(),
            loudness_mode: input.album.loudness,
            target_lufs: input.target_lufs,
            album,
            lead_out: CdTime::from_sectors(input.ddp.lead_out.sectors()),
            tracks,
            ddp_dir: path_text(&input.ddp.dir),
            cd_stream: path_text(input.cd_stream),
            loudness_png: path_text(input.loudness_png),
            warnings,
        }
    }

    /// The document as pretty-printed JSON.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self)
    }

    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }
}

fn track_record(
    t: &AlbumTrackReport,
    spec: &super::AlbumTrack,
    on_disc: &crate::render::ddp::TrackSummary,
) -> AlbumTrackRecord {
    let cd = t.render.deliverables.iter().find(|d| d.format == CD_FORMAT);
    let measurement = cd.map_or(
        MeasurementRecord::from(&Measurement {
            integrated_lufs: f64::NAN,
            loudness_range_lu: f64::NAN,
            true_peak_dbtp: f64::NAN,
            sample_peak_dbfs: f64::NAN,
            duration_s: 0.0,
            sample_rate: redbook::SAMPLE_RATE_HZ,
        }),
        |d| MeasurementRecord::from(&d.measurement),
    );
    let index1 = on_disc.index1.sectors();
    let gap = on_disc.index0.map_or(0, |i0| index1 - i0.sectors());
    let mix_lufs = finite(t.render.source.integrated_lufs);
    AlbumTrackRecord {
        number: t.number,
        title: t.title.clone(),
        artist: spec.artist.clone(),
        isrc: on_disc.isrc.clone(),
        mix: path_text(&t.render.mix),
        file: cd.map_or(String::new(), |d| path_text(&d.path)),
        index0: on_disc.index0.map(|i| CdTime::from_sectors(i.sectors())),
        start: CdTime::from_sectors(index1),
        gap_before: CdTime::from_sectors(gap),
        cd_length: CdTime::from_sectors(on_disc.length.sectors()),
        target_lufs: t.target_lufs,
        gain_db: spec.gain_db,
        mix_lufs,
        mix_to_master_db: measurement
            .integrated_lufs
            .zip(mix_lufs)
            .map(|(master, mix)| master - mix),
        ceiling_dbtp: f64::from(t.render.settings.limiter.ceiling_dbtp),
        peak_limiting_db: t.render.loudness.map(|l| f64::from(l.peak_limiting_db)),
        measurement,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cd_times_read_as_msf_and_seconds() {
        let t = CdTime::from_sectors(2 * 60 * 75 + 3 * 75 + 74);
        assert_eq!(t.msf, "02:03:74");
        assert!((t.seconds - (123.0 + 74.0 / 75.0)).abs() < 1e-12);
        assert_eq!(CdTime::from_sectors(150).msf, "00:02:00");
    }
}
