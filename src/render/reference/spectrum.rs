//! The measuring half of reference matching, shared by the renderer (`--reference`) and the
//! plugin's reference loader (`editor::reference`): the loudness-normalised long-term spectra
//! of the loudest passages, the wanted curves between two of them, and the fit of the match
//! sections to those curves. Pure functions of samples: no files, no report, so the plugin
//! build compiles it without the renderer (see `lib.rs`).

use super::super::analysis::{
    band_centres_hz, default_segment_len, fractional_octave_bands, short_term_series,
    welch_power_spectrum_of_part, StereoPart, SHORT_TERM_WINDOW_S, SPECTRUM_BANDS_PER_OCTAVE,
    SPECTRUM_HIGH_HZ, SPECTRUM_LOW_HZ,
};
use crate::dsp::eq::match_curve::{MATCH_SECTIONS, SIDE_BANDS};
use crate::dsp::eq::match_fit::{fit_mid, fit_side};

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

/// Section gains (dB, at 100 %) fitted to the wanted curves at `sample_rate` (the rate the
/// master runs at): the mid sections always, the side sections only for `stereo` material
/// (mono has no side to shape).
pub fn fit_curves(
    mid_curve: &[(f64, f64)],
    side_curve: &[(f64, f64)],
    sample_rate: u32,
    stereo: bool,
) -> ([f32; MATCH_SECTIONS], [f32; SIDE_BANDS]) {
    let rate = f64::from(sample_rate);
    let side = if stereo {
        fit_side(side_curve, rate)
    } else {
        [0.0; SIDE_BANDS]
    };
    (fit_mid(mid_curve, rate), side)
}
