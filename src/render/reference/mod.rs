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
//! 3. **The curve.** Reference minus mix per band, limited to ±[`CURVE_LIMIT_DB`]; the side
//!    curve is the difference of the side-to-mid ratios, the width per band. Both are fitted
//!    at 100 % and the amount scales what the DSP applies.
//! 4. **The figure of merit.** [`distance_db`]: dB RMS over the 1/3-octave bands from 40 Hz to
//!    16 kHz between the loudness-normalised mid spectra, as the shared
//!    `spectral_distance.py` measures it (that tool normalises energy over the whole file).

pub mod assist;
pub mod html;
pub mod plot;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::analysis::{
    band_centres_hz, default_segment_len, fractional_octave_bands, short_term_series,
    welch_power_spectrum_of_part, StereoPart, SHORT_TERM_WINDOW_S, SPECTRUM_BANDS_PER_OCTAVE,
    SPECTRUM_HIGH_HZ, SPECTRUM_LOW_HZ,
};
use crate::dsp::eq::match_curve::{
    mid_section, side_section, MatchEq, MatchEqSettings, MATCH_SECTIONS, SIDE_BANDS,
};
use crate::dsp::eq::match_fit::{fit_mid, fit_side};
use crate::dsp::ChainSettings;
use crate::render::report::{self, Figure};
use crate::render::{decode, measure, RenderError, RenderJob};

/// The match curve is limited to ±6 dB: a mastering EQ move larger than that says the mix
/// needs fixing, not matching.
pub const CURVE_LIMIT_DB: f64 = 6.0;
/// The distance's bands: 1/3 octave from 40 Hz to 16 kHz (IEC 61260-1 base-2 centres).
pub const DISTANCE_BANDS_PER_OCTAVE: u32 = 3;
pub const DISTANCE_LOW_HZ: f64 = 40.0;
pub const DISTANCE_HIGH_HZ: f64 = 16_000.0;
/// The loudest sections: the short-term (3 s) windows at or above this quantile of the
/// file's short-term loudness, i.e. its louder half.
pub const LOUDEST_QUANTILE: f64 = 0.5;

/// The analysis of one file.
#[derive(Debug, Clone, PartialEq)]
pub struct SpectrumAnalysis {
    /// Mid spectrum, 1/6-octave bands, dB relative to the K-weighted level.
    pub mid_db: Vec<(f64, f64)>,
    /// Side spectrum, same bands and reference.
    pub side_db: Vec<(f64, f64)>,
    /// Mid spectrum in the distance's 1/3-octave bands, same reference.
    pub third_octave_db: Vec<(f64, f64)>,
    /// Fraction of the file the loudest sections cover.
    pub analysed_fraction: f64,
}

/// Sample ranges of the loudest sections: every 3 s short-term window whose loudness is at
/// or above [`LOUDEST_QUANTILE`] of the file's readings, merged. A file too short for one
/// window is analysed whole.
pub fn loudest_sections(channels: &[Vec<f32>], sample_rate: u32) -> Vec<(usize, usize)> {
    let frames = channels.first().map_or(0, Vec::len);
    let series = short_term_series(channels, sample_rate);
    let mut levels: Vec<f64> = series
        .iter()
        .map(|p| p.1)
        .filter(|l| l.is_finite())
        .collect();
    if levels.is_empty() {
        return vec![(0, frames)];
    }
    levels.sort_by(f64::total_cmp);
    let threshold = levels[((levels.len() - 1) as f64 * LOUDEST_QUANTILE).round() as usize];
    let window = (SHORT_TERM_WINDOW_S * sample_rate as f64).round() as usize;
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    for &(t, l) in &series {
        // Silence reads -inf and is never among the loudest.
        if l.is_nan() || l < threshold {
            continue;
        }
        let end = ((t * sample_rate as f64).round() as usize).min(frames);
        let start = end.saturating_sub(window);
        match ranges.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => ranges.push((start, end)),
        }
    }
    ranges
}

/// K-weighting's gain at `freq_hz` in dB (ITU-R BS.1770-4 Annex 1: the pre-filter and the
/// RLB high-pass, 48 kHz coefficients of Tables 1 and 2), evaluated on the unit circle at
/// 48 kHz. Frequencies above 24 kHz read as at 24 kHz.
pub fn k_weighting_db(freq_hz: f64) -> f64 {
    let w = 2.0 * std::f64::consts::PI * freq_hz.min(24_000.0) / 48_000.0;
    let mag_sq = |b: [f64; 3], a: [f64; 3]| {
        let (c1, s1, c2, s2) = (w.cos(), w.sin(), (2.0 * w).cos(), (2.0 * w).sin());
        let nr = b[0] + b[1] * c1 + b[2] * c2;
        let ni = -(b[1] * s1 + b[2] * s2);
        let dr = a[0] + a[1] * c1 + a[2] * c2;
        let di = -(a[1] * s1 + a[2] * s2);
        (nr * nr + ni * ni) / (dr * dr + di * di)
    };
    let pre = mag_sq(
        [
            1.535_124_859_586_97,
            -2.691_696_189_406_38,
            1.198_392_810_852_85,
        ],
        [1.0, -1.690_659_293_182_41, 0.732_480_774_215_85],
    );
    let rlb = mag_sq(
        [1.0, -2.0, 1.0],
        [1.0, -1.990_047_454_833_98, 0.990_072_250_366_21],
    );
    10.0 * (pre * rlb).max(1e-300).log10()
}

/// K-weighted level of band powers `(centre_hz, power)`, dB: the loudness a BS.1770 meter
/// would read (less its -0.691 dB offset) for the analysed passages.
fn k_weighted_level_db(bands: &[(f64, f64)]) -> f64 {
    let sum: f64 = bands
        .iter()
        .map(|&(f, p)| p * 10f64.powf(k_weighting_db(f) / 10.0))
        .sum();
    10.0 * sum.max(1e-300).log10()
}

fn to_db(bands: &[(f64, f64)], reference_db: f64) -> Vec<(f64, f64)> {
    bands
        .iter()
        .map(|&(f, p)| {
            let db = if p > 0.0 {
                10.0 * p.log10() - reference_db
            } else {
                f64::NEG_INFINITY
            };
            (f, db)
        })
        .collect()
}

/// Analyses the loudest sections of `channels` (see the module docs).
pub fn analyse(channels: &[Vec<f32>], sample_rate: u32) -> SpectrumAnalysis {
    let frames = channels.first().map_or(0, Vec::len);
    let ranges = loudest_sections(channels, sample_rate);
    let covered: usize = ranges.iter().map(|r| r.1 - r.0).sum();
    let inside = |s: usize, e: usize| ranges.iter().any(|r| s >= r.0 && e <= r.1);
    let seg = default_segment_len(sample_rate);
    let spectrum = |part: StereoPart| {
        let s = welch_power_spectrum_of_part(channels, part, sample_rate, seg, &inside);
        if s.segments == 0 {
            // Sections shorter than a segment: the whole file instead.
            welch_power_spectrum_of_part(channels, part, sample_rate, seg, &|_, _| true)
        } else {
            s
        }
    };
    let mid = spectrum(StereoPart::Mid);
    let side = spectrum(StereoPart::Side);
    let sixth = |s| {
        fractional_octave_bands(
            s,
            SPECTRUM_BANDS_PER_OCTAVE,
            SPECTRUM_LOW_HZ,
            SPECTRUM_HIGH_HZ,
        )
    };
    let mid_bands = sixth(&mid);
    let level = k_weighted_level_db(&mid_bands);
    let third = fractional_octave_bands(
        &mid,
        DISTANCE_BANDS_PER_OCTAVE,
        DISTANCE_LOW_HZ,
        DISTANCE_HIGH_HZ,
    );
    SpectrumAnalysis {
        mid_db: to_db(&mid_bands, level),
        side_db: to_db(&sixth(&side), level),
        third_octave_db: to_db(&third, level),
        analysed_fraction: covered as f64 / frames.max(1) as f64,
    }
}

/// 1/3-octave distance between two analyses, dB RMS over the bands both have from 40 Hz to
/// 16 kHz (`None` when they share no finite band).
pub fn distance_db(a: &SpectrumAnalysis, b: &SpectrumAnalysis) -> Option<f64> {
    let centres = band_centres_hz(DISTANCE_BANDS_PER_OCTAVE, DISTANCE_LOW_HZ, DISTANCE_HIGH_HZ);
    let mut sum = 0.0;
    let mut n = 0;
    for fc in centres {
        let find = |s: &[(f64, f64)]| {
            s.iter()
                .find(|p| (p.0 / fc - 1.0).abs() < 1e-9)
                .map(|p| p.1)
        };
        if let (Some(x), Some(y)) = (find(&a.third_octave_db), find(&b.third_octave_db)) {
            if x.is_finite() && y.is_finite() {
                sum += (x - y).powi(2);
                n += 1;
            }
        }
    }
    (n > 0).then(|| (sum / n as f64).sqrt())
}

/// Values per band, `(centre_hz, db)`.
pub type BandCurve = Vec<(f64, f64)>;

/// The wanted curves, `(freq_hz, db)` per 1/6-octave band: the mid curve (reference minus
/// mix) and the side curve (reference's side-to-mid ratio minus the mix's), each limited to
/// ±[`CURVE_LIMIT_DB`]. Bands either file lacks (above its Nyquist, or silent) are 0 dB.
pub fn match_curves(
    mix: &SpectrumAnalysis,
    reference: &SpectrumAnalysis,
) -> (BandCurve, BandCurve) {
    let lookup = |s: &[(f64, f64)], f: f64| {
        s.iter()
            .find(|p| (p.0 / f - 1.0).abs() < 1e-9)
            .map(|p| p.1)
            .filter(|v| v.is_finite())
    };
    let limit = |d: f64| d.clamp(-CURVE_LIMIT_DB, CURVE_LIMIT_DB);
    let centres = band_centres_hz(SPECTRUM_BANDS_PER_OCTAVE, SPECTRUM_LOW_HZ, SPECTRUM_HIGH_HZ);
    let mut mid = Vec::with_capacity(centres.len());
    let mut side = Vec::with_capacity(centres.len());
    for f in centres {
        let m = match (lookup(&mix.mid_db, f), lookup(&reference.mid_db, f)) {
            (Some(a), Some(b)) => limit(b - a),
            _ => 0.0,
        };
        let s = match (
            lookup(&mix.mid_db, f),
            lookup(&mix.side_db, f),
            lookup(&reference.mid_db, f),
            lookup(&reference.side_db, f),
        ) {
            (Some(mm), Some(ms), Some(rm), Some(rs)) => limit((rs - rm) - (ms - mm)),
            _ => 0.0,
        };
        mid.push((f, m));
        side.push((f, s));
    }
    (mid, side)
}

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
    let (mid_curve, side_curve) = match_curves(&mix_a, &ref_a);
    let rate = f64::from(mix_rate);
    let mid_gains = fit_mid(&mid_curve, rate);
    let side_gains = if mix.len() >= 2 {
        fit_side(&side_curve, rate)
    } else {
        [0.0; SIDE_BANDS]
    };
    settings.set_mid_gains_db(&mid_gains);
    settings.side_db = side_gains;
    settings.amount_pct = amount_pct;
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
    let curve = mid_curve
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
    let record = ReferenceRecord {
        path: String::new(),
        sample_rate: reference_rate,
        integrated_lufs: None,
        target_from_reference: false,
        amount_pct: s.amount_pct,
        curve_limit_db: CURVE_LIMIT_DB,
        mix_analysed_fraction: mix_a.analysed_fraction,
        reference_analysed_fraction: ref_a.analysed_fraction,
        curve,
        mid_sections,
        side_sections,
        fit_error_db,
        side_fit_error_db,
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

impl Matching {
    /// Measures the master against the reference and completes the record.
    pub fn finish(&mut self, master: &[Vec<f32>], sample_rate: u32) {
        let m = analyse(master, sample_rate);
        let after = distance_db(&m, &self.reference);
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
}

impl ReferenceOptions {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            amount_pct: crate::dsp::eq::match_curve::MATCH_AMOUNT_PCT.default,
            target_from_reference: false,
        }
    }
}

/// File the matched settings are written to, in the output folder.
pub const SETTINGS_NAME: &str = "settings.matched.toml";

/// The settings file a render writes beside its masters: with the assistant,
/// `settings.assisted.toml`; with a reference only, `settings.matched.toml`.
pub fn settings_file_name(job: &RenderJob) -> Option<&'static str> {
    if job.assist_pct.is_some() {
        Some(assist::SETTINGS_NAME)
    } else if job.reference.is_some() {
        Some(SETTINGS_NAME)
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
