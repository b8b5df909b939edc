//! The render's report: `report.json` (every figure, machine-readable) and `report.html` (one
//! self-contained page for people: inline CSS, plots embedded as PNG data URIs), both drawn
//! from one [`ReportDocument`].
//!
//! The renderer fills a [`ReportDocument`] (usually with [`ReportDocument::from_render`])
//! and draws the plots from [`ReportCurves`]: the mix's, analysed while the mix is mastered,
//! and the streaming master's, from the audio that file was encoded from (it differs from
//! the file by the dither alone). [`write_report`] draws them from whole signals instead.
//!
//! With a [`player::Preview`] the page has a player and its audio sits beside it
//! ([`player::audio_script_name`]: `report.audio.js` beside `report.html`).

pub mod document;
pub mod html;
pub mod platforms;
pub mod player;
pub mod plot;
pub mod story;

use std::path::{Path, PathBuf};

pub use document::{
    utc_now_rfc3339, CheckRecord, DeliverableRecord, MeasurementRecord, MixRecord, ReportDocument,
};
pub use platforms::{platform_table, PlatformRow};

use super::analysis::{long_term_spectrum, short_term_series};
use super::encode::temporary_path;
use super::naming;

/// What can stop the report being written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot serialise the report: {0}")]
    Json(#[from] serde_json::Error),
    #[error("cannot draw the report's plots: {0}")]
    Plot(String),
}

/// Planar audio and its rate, as the analysis functions take it.
#[derive(Debug, Clone, Copy)]
pub struct ReportAudio<'a> {
    pub channels: &'a [Vec<f32>],
    pub sample_rate: u32,
}

/// The two pictures, as PNG files in memory, and any further ones.
#[derive(Debug, Clone, PartialEq)]
pub struct Plots {
    pub loudness_png: Vec<u8>,
    pub spectrum_png: Vec<u8>,
    /// Where the loudness picture's time axis lies in it, for the player's playhead.
    pub loudness_axis: plot::TimeAxis,
    /// Pictures of optional stages (reference matching, the assistant), in page order.
    pub figures: Vec<Figure>,
}

/// A further picture for report.html: its heading, caption and PNG.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub heading: String,
    pub caption: String,
    pub png: Vec<u8>,
}

/// What the two pictures show of one signal: its short-term loudness over time and its
/// long-term spectrum. Small (a few thousand points), so the renderer analyses the mix
/// before mastering and need not keep the mix for the report.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportCurves {
    pub short_term: Vec<(f64, f64)>,
    pub spectrum: Vec<(f64, f64)>,
}

impl ReportCurves {
    pub fn of(audio: ReportAudio<'_>) -> Self {
        Self {
            short_term: short_term_series(audio.channels, audio.sample_rate),
            spectrum: long_term_spectrum(audio.channels, audio.sample_rate),
        }
    }
}

impl Plots {
    /// Analyses `mix` and `master` and draws both pictures.
    pub fn draw(
        mix: ReportAudio<'_>,
        master: ReportAudio<'_>,
        target_lufs: Option<f64>,
    ) -> Result<Self, ReportError> {
        let lufs = |a: ReportAudio<'_>| {
            crate::render::measure::measure(a.channels, a.sample_rate).integrated_lufs
        };
        Self::from_curves(
            &ReportCurves::of(mix),
            &ReportCurves::of(master),
            target_lufs,
            level_match_db(lufs(mix), lufs(master)),
        )
    }

    /// Draws both pictures from curves already analysed; `mix_gain_db` brings the mix to the
    /// master's integrated loudness for the spectrum ([`level_match_db`]).
    pub fn from_curves(
        mix: &ReportCurves,
        master: &ReportCurves,
        target_lufs: Option<f64>,
        mix_gain_db: f64,
    ) -> Result<Self, ReportError> {
        let (loudness_png, loudness_axis) =
            plot::loudness_plot(&mix.short_term, &master.short_term, target_lufs)?;
        let spectrum_png = plot::spectrum_plot_png(&mix.spectrum, &master.spectrum, mix_gain_db)?;
        Ok(Self {
            loudness_png,
            spectrum_png,
            loudness_axis,
            figures: Vec::new(),
        })
    }
}

/// The gain that brings the mix to the master's integrated loudness, dB (0 when either is
/// silent), so the report compares them as a listener would at equal loudness.
pub fn level_match_db(mix_lufs: f64, master_lufs: f64) -> f64 {
    let gain = master_lufs - mix_lufs;
    if gain.is_finite() {
        gain
    } else {
        0.0
    }
}

/// Where [`write_report`] put the files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportPaths {
    pub json: PathBuf,
    pub html: PathBuf,
    /// The player's audio beside the page, when there is one.
    pub audio: Option<PathBuf>,
}

impl ReportPaths {
    /// The report of the master called `name` (`naming::master_name`) in `dir`:
    /// `<name>.report.json`, `<name>.report.html` and the player's `<name>.report.audio.js`.
    pub fn in_dir(dir: &Path, name: &str) -> Self {
        let html = naming::report_html(name);
        Self {
            json: dir.join(naming::report_json(name)),
            audio: Some(dir.join(player::audio_script_name(&html))),
            html: dir.join(html),
        }
    }
}

/// Draws the plots and writes the report of the master called `name` into `out_dir` (which
/// must exist). Each file appears under its final name only once complete; an existing
/// report is replaced.
pub fn write_report(
    out_dir: &Path,
    name: &str,
    doc: &ReportDocument,
    mix: ReportAudio<'_>,
    master: ReportAudio<'_>,
) -> Result<ReportPaths, ReportError> {
    let plots = Plots::draw(mix, master, doc.target_lufs)?;
    let paths = ReportPaths::in_dir(out_dir, name);
    write_report_files(out_dir, &paths, doc, &plots)
}

/// Writes the report with plots already drawn into `dir`, under the file names of `paths`
/// (whose folder may be another: a render writes into its staging folder what it will move
/// to the output folder).
pub fn write_report_files(
    dir: &Path,
    paths: &ReportPaths,
    doc: &ReportDocument,
    plots: &Plots,
) -> Result<ReportPaths, ReportError> {
    write_report_files_with_preview(dir, paths, doc, plots, None)
}

/// [`write_report_files`], and with `preview` the player: its audio is written beside the
/// page first, so a page with a player never lacks its audio (an error stops both); a
/// preview that could not be made leaves a note on the page instead. Returns `paths` with
/// `audio` only where the audio was written.
pub fn write_report_files_with_preview(
    dir: &Path,
    paths: &ReportPaths,
    doc: &ReportDocument,
    plots: &Plots,
    preview: Option<&player::PreviewResult>,
) -> Result<ReportPaths, ReportError> {
    let name_in_dir = |p: &Path| dir.join(p.file_name().unwrap_or_default());
    let html_name = paths
        .html
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let script = player::audio_script_name(&html_name);
    let page_player = preview.map(|p| player::PagePlayer::new(script.clone(), p));
    let mut written = paths.clone();
    written.audio = None;
    if let Some(Ok(p)) = preview {
        player::write_audio_script(&dir.join(&script), p)?;
        written.audio = Some(paths.html.with_file_name(&script));
    }
    write_json(&name_in_dir(&paths.json), doc)?;
    let page = html::render_html_with_player(doc, plots, page_player.as_ref());
    write_atomic(&name_in_dir(&paths.html), page.as_bytes())?;
    Ok(written)
}

/// Writes `doc` as pretty-printed JSON to `path`, atomically.
pub fn write_json(path: &Path, doc: &ReportDocument) -> Result<(), ReportError> {
    let mut text = doc.to_json()?;
    text.push('\n');
    write_atomic(path, text.as_bytes())
}

/// Writes `bytes` under a temporary name next to `path` and renames it into place, as
/// `wav::write_wav` does, so a reader never sees half a file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    let tmp = temporary_path(path);
    let io = |e| ReportError::Io {
        path: path.to_path_buf(),
        source: e,
    };
    if let Err(e) = std::fs::write(&tmp, bytes) {
        let _ = std::fs::remove_file(&tmp);
        return Err(io(e));
    }
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io(e)
    })
}
