//! Reference matching (`render --reference`): measure the long-term spectra of the mix and of
//! a reference track, turn their difference into a match curve, fit the match-curve sections
//! (`dsp::eq::match_curve`) to it, and report how close the master comes.
//!
//! 1. **What is compared.** The loudest passages of each file ([`loudest_sections`]), where a
//!    listener judges the tonal balance, as Welch-averaged spectra of the mid `(L+R)/2` and
//!    side `(L-R)/2` signals in 1/6-octave bands (`analysis.rs`). Files at different rates
//!    compare in Hz, without resampling; bands above either Nyquist frequency are left flat.
//! 2. **Loudness-normalised.** Each spectrum is taken relative to its own K-weighted level
//!    (ITU-R BS.1770-4's K filter applied to the bands, [`k_weighting_db`]), so the curve
//!    changes the balance, not the loudness: mix + curve has the mix's loudness.
//! 3. **The curve.** Reference minus mix per band of the spectra smoothed by
//!    `match_eq.smoothing_oct` (wider in the bass, `smoothing.rs`), limited to
//!    ±[`CURVE_LIMIT_DB`], boosting at most [`EDGE_BOOST_DB`] below 40 Hz and above 16 kHz;
//!    the side curve is the difference of the side-to-mid ratios, the width per band, never
//!    widening below [`MONO_BASS_HZ`]. Both are fitted at 100 % with every section inside
//!    its bounds, and the amount scales what the DSP applies.
//! 4. **The figure of merit.** [`distance_db`]: dB RMS over the 1/3-octave bands from 40 Hz to
//!    16 kHz between the loudness-normalised mid spectra, as the shared
//!    `spectral_distance.py` measures it (that tool normalises energy over the whole file).

pub mod assist;
pub mod html;
pub mod plot;
pub mod smoothing;
pub mod spectrum;
pub mod summary;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::dsp::eq::match_curve::{
    mid_section, side_section, MatchEq, MatchEqSettings, MATCH_SECTIONS, SIDE_BANDS,
};
use crate::dsp::ChainSettings;
use crate::render::report::{self, Figure};
use crate::render::{decode, measure, RenderError, RenderJob};

pub use spectrum::*;

/// One fitted section, for the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SectionRecord {
    /// "low_shelf", "bell" or "high_shelf".
    pub kind: String,
    pub freq_hz: f64,
    pub q: f64,
    /// Fitted gain at 100 %.
    pub fitted_db: f32,
    /// What the DSP applies: the fitted gain times the amount.
    pub applied_db: f32,
}

/// One band of the curve, for the report.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    pub freq_hz: f64,
    /// The mix's and the reference's mid levels, dB re their K-weighted level.
    pub mix_db: Option<f64>,
    pub reference_db: Option<f64>,
    /// The wanted mid curve (limited, at 100 %).
    pub wanted_db: f64,
    /// The fitted sections' response at the amount: what the master gets.
    pub applied_db: f64,
    /// The wanted side curve (width change, limited, at 100 %).
    pub side_wanted_db: f64,
    /// The side sections' response at the amount.
    pub side_applied_db: f64,
}

/// Everything reference matching decided, as numbers (report.json's `reference`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferenceRecord {
    pub path: String,
    pub sample_rate: u32,
    pub integrated_lufs: Option<f64>,
    /// Whether the render took the reference's integrated loudness as its target.
    pub target_from_reference: bool,
    pub amount_pct: f32,
    /// The smoothing the wanted curves were taken with, octaves (`match_eq.smoothing_oct`).
    #[serde(default)]
    pub smoothing_oct: f32,
    pub curve_limit_db: f64,
    /// Fraction of each file the loudest sections cover.
    pub mix_analysed_fraction: f64,
    pub reference_analysed_fraction: f64,
    pub curve: Vec<CurvePoint>,
    pub mid_sections: Vec<SectionRecord>,
    pub side_sections: Vec<SectionRecord>,
    /// Largest |fitted − wanted| over 40 Hz–16 kHz at 100 %, dB (mid and side).
    pub fit_error_db: f64,
    pub side_fit_error_db: f64,
    /// Largest step between neighbouring 1/6-octave points of the applied mid curve from
    /// 30 Hz to 16 kHz, dB, at the amount and at 100 %: how smooth the move is.
    #[serde(default)]
    pub max_neighbour_step_db: f64,
    #[serde(default)]
    pub max_neighbour_step_full_db: f64,
    /// Correlation of L and R below 150 Hz (`low_band_correlation`), mix and master: the
    /// master's must not be lower (mono-safe bass).
    #[serde(default)]
    pub low_band_correlation_mix: Option<f64>,
    #[serde(default)]
    pub low_band_correlation_master: Option<f64>,
    /// 1/3-octave distance to the reference, dB RMS over 40 Hz–16 kHz, mix and master.
    pub distance_before_db: Option<f64>,
    pub distance_after_db: Option<f64>,
    /// How much of the distance the master took away, percent.
    pub distance_fall_pct: Option<f64>,
    /// The master's mid spectrum (1/6 octave, dB re its K-weighted level), for the plot.
    pub master_mid_db: Vec<(f64, f64)>,
}

fn kind_name(k: crate::dsp::eq::bands::Kind) -> &'static str {
    use crate::dsp::eq::bands::Kind;
    match k {
        Kind::LowShelf => "low_shelf",
        Kind::HighShelf => "high_shelf",
        _ => "bell",
    }
}

/// The result of matching, before the master exists.
#[derive(Debug, Clone)]
pub struct Matching {
    pub mix: SpectrumAnalysis,
    pub reference: SpectrumAnalysis,
    pub record: ReferenceRecord,
}

/// The band the neighbour step is judged over, Hz.
pub const STEP_LOW_HZ: f64 = 30.0;
pub const STEP_HIGH_HZ: f64 = 16_000.0;

/// Largest |response − wanted| over 40 Hz–16 kHz.
fn max_error(wanted: &[(f64, f64)], response: impl Fn(f64) -> f64) -> f64 {
    wanted
        .iter()
        .filter(|p| (DISTANCE_LOW_HZ..=DISTANCE_HIGH_HZ).contains(&p.0))
        .map(|&(f, w)| (response(f) - w).abs())
        .fold(0.0, f64::max)
}

/// Fits the match curve of `mix` against `reference` at `sample_rate` (the mix's) and
/// writes it, at `amount_pct`, into `settings`. Returns the analyses and the record (without
/// the after-distance, see [`Matching::finish`]).
pub fn prepare(
    mix: &[Vec<f32>],
    reference: &[Vec<f32>],
    mix_rate: u32,
    reference_rate: u32,
    amount_pct: f32,
    settings: &mut MatchEqSettings,
) -> Matching {
    let mix_a = analyse(mix, mix_rate);
    let ref_a = analyse(reference, reference_rate);
    let smoothing_oct =
        crate::dsp::eq::match_curve::MATCH_SMOOTHING_OCT.clamp(settings.smoothing_oct);
    let (mid_curve, side_curve) = match_curves(&mix_a, &ref_a, f64::from(smoothing_oct));
    let (mid_gains, side_gains) =
        fit_curves(&mid_curve, &side_curve, mix_rate, mix.len() >= 2, &mix_a);
    settings.set_mid_gains_db(&mid_gains);
    settings.side_db = side_gains;
    settings.amount_pct = amount_pct;
    settings.smoothing_oct = smoothing_oct;
    let s = settings.clamped();
    let full = MatchEqSettings {
        amount_pct: 100.0,
        ..s
    };
    let k = f64::from(s.amount_pct) / 100.0;
    let lookup = |v: &[(f64, f64)], f: f64| {
        v.iter()
            .find(|p| (p.0 / f - 1.0).abs() < 1e-9)
            .map(|p| p.1)
            .filter(|v| v.is_finite())
    };
    let curve: Vec<CurvePoint> = mid_curve
        .iter()
        .zip(&side_curve)
        .map(|(&(f, w), &(_, sw))| CurvePoint {
            freq_hz: f,
            mix_db: lookup(&mix_a.mid_db, f),
            reference_db: lookup(&ref_a.mid_db, f),
            wanted_db: w,
            applied_db: f64::from(MatchEq::magnitude_db(&s, mix_rate as f32, f as f32)),
            side_wanted_db: sw,
            side_applied_db: f64::from(MatchEq::side_magnitude_db(&s, mix_rate as f32, f as f32)),
        })
        .collect();
    let mid_g = s.mid_gains_db();
    let mid_sections = (0..MATCH_SECTIONS)
        .map(|i| {
            let (kind, f, q) = mid_section(i);
            SectionRecord {
                kind: kind_name(kind).to_string(),
                freq_hz: f,
                q,
                fitted_db: mid_g[i],
                applied_db: (f64::from(mid_g[i]) * k) as f32,
            }
        })
        .collect();
    let side_sections = (0..SIDE_BANDS)
        .map(|i| {
            let (kind, f, q) = side_section(i);
            SectionRecord {
                kind: kind_name(kind).to_string(),
                freq_hz: f,
                q,
                fitted_db: s.side_db[i],
                applied_db: (f64::from(s.side_db[i]) * k) as f32,
            }
        })
        .collect();
    let fit_error_db = max_error(&mid_curve, |f| {
        f64::from(MatchEq::magnitude_db(&full, mix_rate as f32, f as f32))
    });
    let side_fit_error_db = max_error(&side_curve, |f| {
        f64::from(MatchEq::side_magnitude_db(&full, mix_rate as f32, f as f32))
    });
    let applied: Vec<(f64, f64)> = curve_points(&curve, |p| p.applied_db);
    let full_curve: Vec<(f64, f64)> = mid_curve
        .iter()
        .map(|&(f, _)| {
            let db = MatchEq::magnitude_db(&full, mix_rate as f32, f as f32);
            (f, f64::from(db))
        })
        .collect();
    let record = ReferenceRecord {
        path: String::new(),
        sample_rate: reference_rate,
        integrated_lufs: None,
        target_from_reference: false,
        amount_pct: s.amount_pct,
        smoothing_oct,
        curve_limit_db: CURVE_LIMIT_DB,
        mix_analysed_fraction: mix_a.analysed_fraction,
        reference_analysed_fraction: ref_a.analysed_fraction,
        curve,
        mid_sections,
        side_sections,
        fit_error_db,
        side_fit_error_db,
        max_neighbour_step_db: max_neighbour_step_db(&applied, STEP_LOW_HZ, STEP_HIGH_HZ),
        max_neighbour_step_full_db: max_neighbour_step_db(&full_curve, STEP_LOW_HZ, STEP_HIGH_HZ),
        low_band_correlation_mix: low_band_correlation(&mix_a),
        low_band_correlation_master: None,
        distance_before_db: distance_db(&mix_a, &ref_a),
        distance_after_db: None,
        distance_fall_pct: None,
        master_mid_db: Vec::new(),
    };
    Matching {
        mix: mix_a,
        reference: ref_a,
        record,
    }
}

/// One column of the curve as `(freq_hz, db)` points.
fn curve_points(curve: &[CurvePoint], value: impl Fn(&CurvePoint) -> f64) -> Vec<(f64, f64)> {
    curve.iter().map(|p| (p.freq_hz, value(p))).collect()
}

impl Matching {
    /// Measures the master against the reference and completes the record.
    pub fn finish(&mut self, master: &[Vec<f32>], sample_rate: u32) {
        let m = analyse(master, sample_rate);
        let after = distance_db(&m, &self.reference);
        self.record.low_band_correlation_master = low_band_correlation(&m);
        self.record.distance_after_db = after;
        self.record.distance_fall_pct = match (self.record.distance_before_db, after) {
            (Some(b), Some(a)) if b > 0.0 => Some(100.0 * (b - a) / b),
            _ => None,
        };
        self.record.master_mid_db = m.mid_db.into_iter().filter(|p| p.1.is_finite()).collect();
    }
}

/// What `--reference` asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct ReferenceOptions {
    pub path: PathBuf,
    /// How much of the fitted curve to apply, percent (0 = off).
    pub amount_pct: f32,
    /// Take the reference's integrated loudness as the target (`--target reference`).
    pub target_from_reference: bool,
    /// Smoothing of the spectra, octaves (`--match-smoothing`); `None` keeps the settings'
    /// `match_eq.smoothing_oct`.
    pub smoothing_oct: Option<f32>,
}

impl ReferenceOptions {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            amount_pct: crate::dsp::eq::match_curve::MATCH_AMOUNT_PCT.default,
            target_from_reference: false,
            smoothing_oct: None,
        }
    }
}

/// How the file the matched settings are written to ends: `<master>.settings.matched.toml`.
pub const SETTINGS_NAME: &str = "settings.matched.toml";

/// The settings file a render of the master called `name` writes beside its masters: with
/// the assistant, `<name>.settings.assisted.toml`; with a reference only,
/// `<name>.settings.matched.toml`.
pub fn settings_file_name(job: &RenderJob, name: &str) -> Option<String> {
    if job.assist_pct.is_some() {
        Some(format!("{name}.{}", assist::SETTINGS_NAME))
    } else if job.reference.is_some() {
        Some(format!("{name}.{SETTINGS_NAME}"))
    } else {
        None
    }
}

/// Writes `settings` as the ChainSettings TOML that `--settings` reads, atomically.
pub fn write_settings(path: &Path, settings: &ChainSettings) -> Result<(), RenderError> {
    let text = format!(
        "# Written by lathe's renderer: the settings this master was made with, automatic\n\
         # decisions (reference match curve, assistant moves) included. Render again with\n\
         # --settings this file.\n{}",
        settings.to_toml()
    );
    Ok(report::write_atomic(path, text.as_bytes())?)
}

/// Decodes the reference, fits the curve into `settings.match_eq` and fills the record's
/// file figures.
pub fn prepare_job(
    options: &ReferenceOptions,
    mix: &[Vec<f32>],
    mix_rate: u32,
    settings: &mut ChainSettings,
) -> Result<Matching, RenderError> {
    let reference = decode::decode_file(&options.path)?;
    let m_ref = measure::measure(&reference.channels, reference.sample_rate);
    if let Some(oct) = options.smoothing_oct {
        settings.match_eq.smoothing_oct = oct;
    }
    let mut m = prepare(
        mix,
        &reference.channels,
        mix_rate,
        reference.sample_rate,
        options.amount_pct,
        &mut settings.match_eq,
    );
    m.record.path = options.path.to_string_lossy().into_owned();
    m.record.integrated_lufs = m_ref
        .integrated_lufs
        .is_finite()
        .then_some(m_ref.integrated_lufs);
    m.record.target_from_reference = options.target_from_reference;
    Ok(m)
}

/// The report's pictures of matching and of the assistant.
pub fn figures(
    reference: Option<&ReferenceRecord>,
    assist: Option<&assist::AssistRecord>,
) -> Result<Vec<Figure>, RenderError> {
    let mut out = Vec::new();
    if let Some(r) = reference {
        out.push(Figure {
            heading: "Reference: spectra".into(),
            caption: "Mid spectra (L+R)/2 of the loudest sections of the mix, the reference and \
                      the master, each relative to its own K-weighted level, in 1/6-octave bands."
                .into(),
            png: plot::spectra_png(r)?,
        });
        out.push(Figure {
            heading: "Reference: match curve".into(),
            caption: format!(
                "The wanted curve (reference minus mix, limited to ±{:.0} dB, dashed) and what the \
                 fitted sections apply at {:.0} %: to both channels, and to the side signal only \
                 (the width per band).",
                r.curve_limit_db, r.amount_pct
            ),
            png: plot::curve_png(r)?,
        });
    }
    if let Some(a) = assist {
        out.push(Figure {
            heading: "Tonal balance assistant: the target".into(),
            caption: format!(
                "The mix's mid density against the target slope ({:+.1} dB per octave above {:.0} Hz) \
                 and its ±{:.0} dB tolerance band.",
                a.slope_db_per_octave, a.slope_from_hz, a.tolerance_db
            ),
            png: plot::assist_png(a)?,
        });
    }
    Ok(out)
}
