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
use super::smoothing::smooth_db;
use crate::dsp::eq::match_curve::{
    mid_section, sections_db, side_section, MATCH_SECTIONS, SIDE_BANDS,
};
use crate::dsp::eq::match_fit::{fit_mid, fit_side, Bounds};

/// The match curve is limited to ±6 dB: a mastering EQ move larger than that says the mix
/// needs fixing, not matching.
pub const CURVE_LIMIT_DB: f64 = 6.0;
/// The distance's bands: 1/3 octave from 40 Hz to 16 kHz (IEC 61260-1 base-2 centres).
pub const DISTANCE_BANDS_PER_OCTAVE: u32 = 3;
pub const DISTANCE_LOW_HZ: f64 = 40.0;
pub const DISTANCE_HIGH_HZ: f64 = 16_000.0;
/// Below [`RUMBLE_BELOW_HZ`] and above [`AIR_ABOVE_HZ`] the curve may cut freely but boost at
/// most [`EDGE_BOOST_DB`], and only where the mix has content within [`EDGE_CONTENT_DB`] of
/// its 100 Hz–1 kHz level: a reference's sub-bass rumble or its hiss above 16 kHz is not a
/// balance to copy, and boosting a band the mix has nothing in only raises its noise.
pub const RUMBLE_BELOW_HZ: f64 = 40.0;
pub const AIR_ABOVE_HZ: f64 = 16_000.0;
pub const EDGE_BOOST_DB: f64 = 3.0;
pub const EDGE_CONTENT_DB: f64 = 30.0;
/// The wanted curve boosts that much less than [`EDGE_BOOST_DB`] out there, so the fit's
/// ripple (measured up to 0.09 dB on the excerpts in tests/data) stays under the limit.
pub const EDGE_FIT_MARGIN_DB: f64 = 0.25;
/// Below this the side curve may narrow but never widen: bass widened in the side folds
/// down to nothing in mono and moves a cutting head (DESIGN.md, "How quality is judged":
/// nothing that widens the bass below 150 Hz).
pub const MONO_BASS_HZ: f64 = 150.0;
/// Steepest the wanted curves may be, dB between neighbouring 1/6-octave points (3.6 dB per
/// octave): the bound on the applied curve is 1 dB, and the fit's small ripple needs
/// the rest. A balance move steeper than this is a note, not a balance.
pub const MAX_CURVE_STEP_DB: f64 = 0.6;
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
/// mix) and the side curve (reference's side-to-mid ratio minus the mix's), each from the
/// spectra smoothed by `smoothing_oct` (`smoothing::smooth_db`) and limited to
/// ±[`CURVE_LIMIT_DB`]; the mid curve boosts at most [`EDGE_BOOST_DB`] outside
/// [`RUMBLE_BELOW_HZ`]–[`AIR_ABOVE_HZ`] (none where the mix has nothing there), the side
/// curve never widens below [`MONO_BASS_HZ`]. What swings faster than
/// [`MAX_CURVE_STEP_DB`] per band after smoothing (a short file's notes) is cut back to that
/// slope ([`lipschitz_midpoint`]), and the limits approach at that slope too, so no limit
/// is a cliff. Bands either file lacks (above its Nyquist, or silent) are 0 dB.
pub fn match_curves(
    mix: &SpectrumAnalysis,
    reference: &SpectrumAnalysis,
    smoothing_oct: f64,
) -> (BandCurve, BandCurve) {
    let lookup = |s: &[(f64, f64)], f: f64| {
        s.iter()
            .find(|p| (p.0 / f - 1.0).abs() < 1e-9)
            .map(|p| p.1)
            .filter(|v| v.is_finite())
    };
    let (mix_mid, mix_side) = (
        smooth_db(&mix.mid_db, smoothing_oct),
        smooth_db(&mix.side_db, smoothing_oct),
    );
    let (ref_mid, ref_side) = (
        smooth_db(&reference.mid_db, smoothing_oct),
        smooth_db(&reference.side_db, smoothing_oct),
    );
    let body_db = band_level_db(&mix.mid_db, 100.0, 1000.0);
    let limit = |d: f64| d.clamp(-CURVE_LIMIT_DB, CURVE_LIMIT_DB);
    let centres = band_centres_hz(SPECTRUM_BANDS_PER_OCTAVE, SPECTRUM_LOW_HZ, SPECTRUM_HIGH_HZ);
    let (mut mid, mut side) = (Vec::new(), Vec::new());
    let (mut mid_cap, mut side_cap) = (Vec::new(), Vec::new());
    // A boost below 40 Hz (above 16 kHz) only where every band out there has content: the
    // raw bands, not the smoothed ones (smoothing lends an empty band its neighbours'
    // content), and the region as a whole, since a shelf boosts all the way to DC (Nyquist).
    let region_cap = |keep: &dyn Fn(f64) -> bool| {
        let all_content = centres.iter().filter(|&&f| keep(f)).all(|&f| {
            match (lookup(&mix.mid_db, f), body_db) {
                (Some(l), Some(body)) => l >= body - EDGE_CONTENT_DB,
                _ => false,
            }
        });
        if all_content {
            EDGE_BOOST_DB - EDGE_FIT_MARGIN_DB
        } else {
            0.0
        }
    };
    let rumble_cap = region_cap(&|f| f < RUMBLE_BELOW_HZ);
    let air_cap = region_cap(&|f| f > AIR_ABOVE_HZ);
    for &f in &centres {
        let m = match (lookup(&mix_mid, f), lookup(&ref_mid, f)) {
            (Some(a), Some(b)) => limit(b - a),
            _ => 0.0,
        };
        let cap = if f < RUMBLE_BELOW_HZ {
            rumble_cap
        } else if f > AIR_ABOVE_HZ {
            air_cap
        } else {
            CURVE_LIMIT_DB
        };
        let s = match (
            lookup(&mix_mid, f),
            lookup(&mix_side, f),
            lookup(&ref_mid, f),
            lookup(&ref_side, f),
        ) {
            (Some(mm), Some(ms), Some(rm), Some(rs)) => limit((rs - rm) - (ms - mm)),
            _ => 0.0,
        };
        mid.push(m);
        side.push(s);
        mid_cap.push(cap);
        // Up to an octave above MONO_BASS_HZ, as far as the side sections that may not
        // widen reach (`side_bounds`): the curve asks for no more than they can give.
        side_cap.push(if f < 2.0 * MONO_BASS_HZ {
            0.0
        } else {
            CURVE_LIMIT_DB
        });
    }
    let shape = |values: &[f64], caps: &[f64]| -> BandCurve {
        let mid_point = lipschitz_midpoint(values, MAX_CURVE_STEP_DB);
        let ceiling = lipschitz_minorant(caps, MAX_CURVE_STEP_DB);
        centres
            .iter()
            .zip(mid_point.iter().zip(&ceiling))
            .map(|(&f, (&v, &c))| (f, v.min(c).max(-CURVE_LIMIT_DB)))
            .collect()
    };
    (shape(&mid, &mid_cap), shape(&side, &side_cap))
}

/// The largest sequence under `values` whose neighbours differ by at most `step`:
/// `min_k (values[k] + step·|i - k|)` (McShane's extension, E. J. McShane, "Extension of
/// range of functions", Bull. AMS 40, 1934).
pub fn lipschitz_minorant(values: &[f64], step: f64) -> Vec<f64> {
    (0..values.len())
        .map(|i| {
            values
                .iter()
                .enumerate()
                .map(|(k, &v)| v + step * (i as f64 - k as f64).abs())
                .fold(f64::INFINITY, f64::min)
        })
        .collect()
}

/// The midpoint of the largest sequence under `values` and the smallest over them whose
/// neighbours differ by at most `step` (McShane's and Whitney's extensions; H. Whitney,
/// "Analytic extensions of differentiable functions defined in closed sets", Trans. AMS 36,
/// 1934): `values` itself where it is already that smooth, and otherwise the curve halfway
/// between its two closest smooth bounds, so a steep swing is cut symmetrically, peaks and
/// dips alike. The mean of two sequences with steps at most `step` has steps at most `step`.
pub fn lipschitz_midpoint(values: &[f64], step: f64) -> Vec<f64> {
    let below = lipschitz_minorant(values, step);
    let negated: Vec<f64> = values.iter().map(|v| -v).collect();
    let above = lipschitz_minorant(&negated, step);
    below
        .iter()
        .zip(&above)
        .map(|(b, a)| 0.5 * (b - a))
        .collect()
}

/// Power-average level of the bands with centres in `low_hz..=high_hz`, dB (`None` if none
/// is finite).
pub fn band_level_db(bands: &[(f64, f64)], low_hz: f64, high_hz: f64) -> Option<f64> {
    let powers: Vec<f64> = bands
        .iter()
        .filter(|p| (low_hz..=high_hz).contains(&p.0) && p.1.is_finite())
        .map(|p| 10f64.powf(p.1 / 10.0))
        .collect();
    (!powers.is_empty()).then(|| 10.0 * (powers.iter().sum::<f64>() / powers.len() as f64).log10())
}

/// The bounds of each mid section's gain: ±[`CURVE_LIMIT_DB`], and for the sections centred
/// below [`RUMBLE_BELOW_HZ`] or at and above [`AIR_ABOVE_HZ`] no more boost than the wanted
/// curve asks for out there (at most [`EDGE_BOOST_DB`], and none when [`match_curves`]
/// found a band there without content).
pub fn mid_bounds(mid_curve: &[(f64, f64)]) -> [Bounds; MATCH_SECTIONS] {
    let most = |keep: &dyn Fn(f64) -> bool| {
        mid_curve
            .iter()
            .filter(|p| keep(p.0))
            .map(|p| p.1)
            .fold(0.0, f64::max)
            .min(EDGE_BOOST_DB)
    };
    let rumble = most(&|f| f < RUMBLE_BELOW_HZ);
    let air = most(&|f| f > AIR_ABOVE_HZ);
    std::array::from_fn(|i| {
        let f = mid_section(i).1;
        let hi = if f < RUMBLE_BELOW_HZ {
            rumble
        } else if f >= AIR_ABOVE_HZ {
            air
        } else {
            CURVE_LIMIT_DB
        };
        (-CURVE_LIMIT_DB, hi)
    })
}

/// Margin of the predicted low-band correlation over the mix's, see [`fit_curves`].
pub const CORRELATION_MARGIN: f64 = 0.002;

/// The bounds of each side section's gain: ±[`CURVE_LIMIT_DB`], but no widening by a section
/// centred below twice [`MONO_BASS_HZ`]: the side bells span 1.5 octaves at half gain, so a
/// bell at 250 Hz still lends about half its gain to 150 Hz.
pub fn side_bounds() -> [Bounds; SIDE_BANDS] {
    std::array::from_fn(|i| {
        let f = side_section(i).1;
        let hi = if f < 2.0 * MONO_BASS_HZ {
            0.0
        } else {
            CURVE_LIMIT_DB
        };
        (-CURVE_LIMIT_DB, hi)
    })
}

/// Section gains (dB, at 100 %) fitted to the wanted curves at `sample_rate` (the rate the
/// master runs at), each within its bounds ([`mid_bounds`], [`side_bounds`]): the mid
/// sections always, the side sections only for `stereo` material (mono has no side to
/// shape). Then the bass is kept mono-safe as a whole: a mid boost where the mix's side is
/// relatively strong lowers the correlation below [`MONO_BASS_HZ`] even with no side added,
/// so where the curve would lower it, the side sections there are lowered together until
/// the correlation `mix` would have after the curve ([`predicted_low_band_correlation`]) is
/// [`CORRELATION_MARGIN`] above what it had, and until no widening bell's skirt reaches
/// below [`MONO_BASS_HZ`]. A curve that does neither is left as fitted.
pub fn fit_curves(
    mid_curve: &[(f64, f64)],
    side_curve: &[(f64, f64)],
    sample_rate: u32,
    stereo: bool,
    mix: &SpectrumAnalysis,
) -> ([f32; MATCH_SECTIONS], [f32; SIDE_BANDS]) {
    let rate = f64::from(sample_rate);
    let mid = fit_mid(mid_curve, rate, &mid_bounds(mid_curve));
    if !stereo {
        return (mid, [0.0; SIDE_BANDS]);
    }
    let mut side = fit_side(side_curve, rate, &side_bounds());
    // A little above the mix's own: the prediction reads the responses at band centres, the
    // master the filters themselves (measured apart by up to 0.0004 on tests/data).
    let mix_correlation = low_band_correlation(mix).unwrap_or(-1.0);
    let before = mix_correlation + CORRELATION_MARGIN.min(0.5 * (1.0 - mix_correlation));
    let with_cut = |cut_db: f64| -> [f32; SIDE_BANDS] {
        std::array::from_fn(|i| {
            if side_section(i).1 < 2.0 * MONO_BASS_HZ {
                (f64::from(side[i]) - cut_db).max(-CURVE_LIMIT_DB) as f32
            } else {
                side[i]
            }
        })
    };
    // No widening anywhere below MONO_BASS_HZ, not even a widening bell's far skirt.
    let widens = |side_db: &[f32; SIDE_BANDS]| {
        let g: Vec<f64> = side_db.iter().map(|&g| f64::from(g)).collect();
        mix.side_db
            .iter()
            .filter(|p| p.0 <= MONO_BASS_HZ && p.0 < 0.5 * rate)
            .any(|p| sections_db((0..SIDE_BANDS).map(side_section), &g, rate, p.0) > 0.0)
    };
    let ok = |cut_db: f64, least: f64| {
        let cut = with_cut(cut_db);
        !widens(&cut)
            && predicted_low_band_correlation(mix, &mid, &cut, rate)
                .is_none_or(|after| after >= least)
    };
    if !ok(0.0, mix_correlation) {
        // Bisection on the extra cut, 0 to the full range; the correlation rises with it.
        let (mut lo, mut hi) = (0.0, 2.0 * CURVE_LIMIT_DB);
        for _ in 0..40 {
            let m = 0.5 * (lo + hi);
            if ok(m, before) {
                hi = m;
            } else {
                lo = m;
            }
        }
        side = with_cut(hi);
    }
    (mid, side)
}

/// [`low_band_correlation`] of `mix` after mid gains `mid_db` and side gains `side_db` (at
/// 100 %), from its band powers and the sections' responses at the band centres.
pub fn predicted_low_band_correlation(
    mix: &SpectrumAnalysis,
    mid_db: &[f32; MATCH_SECTIONS],
    side_db: &[f32; SIDE_BANDS],
    sample_rate: f64,
) -> Option<f64> {
    let mid_g: Vec<f64> = mid_db.iter().map(|&g| f64::from(g)).collect();
    let side_g: Vec<f64> = side_db.iter().map(|&g| f64::from(g)).collect();
    let (mut m, mut s) = (0.0, 0.0);
    for (&(f, md), &(_, sd)) in mix.mid_db.iter().zip(&mix.side_db) {
        if f > MONO_BASS_HZ || f >= 0.5 * sample_rate {
            continue;
        }
        let gm = sections_db((0..MATCH_SECTIONS).map(mid_section), &mid_g, sample_rate, f);
        let gs = sections_db((0..SIDE_BANDS).map(side_section), &side_g, sample_rate, f);
        if md.is_finite() {
            m += 10f64.powf((md + gm) / 10.0);
        }
        if sd.is_finite() {
            s += 10f64.powf((sd + gm + gs) / 10.0);
        }
    }
    (m + s > 0.0).then(|| (m - s) / (m + s))
}

/// Largest difference between neighbouring points of `curve` with both in
/// `low_hz..=high_hz`, dB: how jagged a curve is, on its own grid.
pub fn max_neighbour_step_db(curve: &[(f64, f64)], low_hz: f64, high_hz: f64) -> f64 {
    curve
        .windows(2)
        .filter(|w| w[0].0 >= low_hz && w[1].0 <= high_hz)
        .map(|w| (w[1].1 - w[0].1).abs())
        .fold(0.0, f64::max)
}

/// Correlation of left and right below [`MONO_BASS_HZ`], from the bands of an analysis:
/// `(P_M - P_S) / (P_M + P_S)` over the mid and side power of the bands centred at or below
/// it. With L and R of equal power this is their Pearson correlation (`L·R = M² - S²`,
/// `L² + R² = 2(M² + S²)`): 1 is mono, 0 as wide as it gets without cancelling, below 0 the
/// bass cancels when folded down. `None` without finite bands there.
pub fn low_band_correlation(a: &SpectrumAnalysis) -> Option<f64> {
    let power = |s: &[(f64, f64)]| -> f64 {
        s.iter()
            .filter(|p| p.0 <= MONO_BASS_HZ && p.1.is_finite())
            .map(|p| 10f64.powf(p.1 / 10.0))
            .sum()
    };
    let (m, s) = (power(&a.mid_db), power(&a.side_db));
    (m + s > 0.0).then(|| (m - s) / (m + s))
}
