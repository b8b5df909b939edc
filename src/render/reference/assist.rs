//! The tonal-balance assistant (`render --assist`): without a reference, compare the mix's
//! long-term spectrum with a smooth slope typical of commercial masters and suggest moves of
//! the tonal EQ's own bands (low shelf, three bells, high shelf), none larger than ±3 dB.
//!
//! **The target.** A straight line in dB over log frequency: a fall of
//! [`SLOPE_DB_PER_OCTAVE`] (-4.5 dB per octave of power spectral density, dB per Hz) from
//! [`SLOPE_FROM_HZ`] (100 Hz) up, holding its 100 Hz density below. In the 1/6-octave bands
//! this module measures, whose width grows with frequency, that is a fall of 1.5 dB per
//! octave of band level. Its level is fitted to the mix (the mean deviation over
//! 100 Hz–16 kHz), so only the shape counts.
//!
//! **Where the slope comes from, and what is not verified.** The figure is attributed to
//! P. D. Pestana, Z. Ma, J. D. Reiss, A. Barbosa and D. A. A. Black, "Spectral
//! characteristics of popular commercial recordings 1950–2010", AES 135th Convention, New
//! York, 2013, on the average long-term spectrum of commercial releases. The
//! paper could not be opened from this machine, so its number is **not verified**: do not
//! cite -4.5 dB per octave as Pestana's until someone has checked it against the paper. What
//! is measured here instead (Welch, 8192-point segments, 1/6-octave density, least-squares
//! line over 100 Hz–16 kHz; `ffmpeg` downmix to mono at 48 kHz): the five shared mixes in
//! ../shared/audio fall by 4.8 (francium), 5.4 (potassium), 5.8 (by-product), 5.8 (the
//! Brahms strings) and 7.3 (vibe-ace) dB per octave, mean 5.8. They are mixes from lossy
//! sources, not commercial masters, so they do not replace the figure either; -4.5 sits at
//! the bright end of them, which is why the assistant tends to suggest taming the low end
//! and lifting the top of these mixes.
//!
//! **Smooth and mono-safe.** The mix's spectrum is smoothed as the reference match smooths
//! it (`smoothing.rs`, [`MATCH_SMOOTHING_OCT`]'s default), so its notes are not deviations;
//! the moves are the tonal EQ's five broad bands, fitted within ±[`MAX_MOVE_DB`] each by the
//! bounded least squares (`match_fit::fit`), so no two of them cancel; they act on L and R
//! alike and leave the width untouched.
//!
//! The mix is within the target where it lies inside ±[`TOLERANCE_DB`]; only the excess
//! beyond the band is corrected, so a mix near the slope gets no moves at all. On the real
//! excerpts in tests/data every song still gets moves (tests/reference_curves.rs).

use serde::{Deserialize, Serialize};

use super::analyse;
use super::smoothing::smooth_db;
use crate::dsp::eq::bands::Kind;
use crate::dsp::eq::match_curve::MATCH_SMOOTHING_OCT;
use crate::dsp::eq::match_fit::fit;
use crate::dsp::eq::{EqSettings, EQ_GAIN_DB};

/// Slope of the target, dB per octave of power spectral density (see the module docs).
pub const SLOPE_DB_PER_OCTAVE: f64 = -4.5;
/// The slope holds from here up; below, the target is flat in density.
pub const SLOPE_FROM_HZ: f64 = 100.0;
/// Half-width of the tolerance band around the target, dB.
pub const TOLERANCE_DB: f64 = 3.0;
/// No suggested move is larger than this, dB.
pub const MAX_MOVE_DB: f64 = 3.0;
/// The band of the spectrum the assistant judges.
pub const LOW_HZ: f64 = 40.0;
pub const HIGH_HZ: f64 = 16_000.0;
/// File the assisted settings are written to, in the output folder.
pub const SETTINGS_NAME: &str = "settings.assisted.toml";

/// One band of the comparison.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AssistPoint {
    pub freq_hz: f64,
    /// The mix's mid density, dB (band level less 10·log10 of the band width, relative).
    pub mix_db: f64,
    pub target_db: f64,
    /// Mix minus target.
    pub deviation_db: f64,
    /// The correction wanted: the deviation beyond the tolerance band, negated.
    pub wanted_db: f64,
}

/// One suggested move on a tonal EQ band.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssistMove {
    /// "low_shelf", "bell1" … "bell3", "high_shelf".
    pub band: String,
    pub freq_hz: f32,
    pub q: f32,
    pub before_db: f32,
    /// The fitted move at 100 %, limited to ±3 dB.
    pub suggested_db: f32,
    /// The move applied: suggested times the amount.
    pub move_db: f32,
    pub after_db: f32,
}

/// Everything the assistant decided (report.json's `assist`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssistRecord {
    pub slope_db_per_octave: f64,
    pub slope_from_hz: f64,
    pub tolerance_db: f64,
    pub max_move_db: f64,
    pub amount_pct: f32,
    pub points: Vec<AssistPoint>,
    pub moves: Vec<AssistMove>,
    /// Fraction of the bands from 40 Hz to 16 kHz outside the tolerance band.
    pub outside_fraction: f64,
    /// The settings file written with the moves in it.
    pub settings_file: String,
}

/// The target's shape at `freq_hz` (before its level is fitted), dB of density.
pub fn target_shape_db(freq_hz: f64) -> f64 {
    SLOPE_DB_PER_OCTAVE * (freq_hz.max(SLOPE_FROM_HZ) / 1000.0).log2()
}

/// Kind, frequency and Q of the tonal EQ bands the assistant moves, in the order of
/// [`band_names`].
fn layout(eq: &EqSettings, i: usize) -> (Kind, f64, f64) {
    match i {
        0 => (
            Kind::LowShelf,
            f64::from(eq.low_shelf.freq_hz),
            f64::from(eq.low_shelf.q),
        ),
        1..=3 => {
            let b = &eq.bells[i - 1];
            (Kind::Bell, f64::from(b.freq_hz), f64::from(b.q))
        }
        _ => (
            Kind::HighShelf,
            f64::from(eq.high_shelf.freq_hz),
            f64::from(eq.high_shelf.q),
        ),
    }
}

fn band_names() -> [&'static str; 5] {
    ["low_shelf", "bell1", "bell2", "bell3", "high_shelf"]
}

fn gain_mut(eq: &mut EqSettings, i: usize) -> &mut f32 {
    match i {
        0 => &mut eq.low_shelf.gain_db,
        1..=3 => &mut eq.bells[i - 1].gain_db,
        _ => &mut eq.high_shelf.gain_db,
    }
}

/// Compares the loudest sections of `channels` with the target, and adds the moves (scaled
/// by `amount_pct`) to `eq`'s band gains.
pub fn suggest(
    channels: &[Vec<f32>],
    sample_rate: u32,
    eq: &mut EqSettings,
    amount_pct: f32,
) -> AssistRecord {
    let amount_pct = amount_pct.clamp(0.0, 100.0);
    let a = analyse(channels, sample_rate);
    // Smoothed as the reference match smooths (`smoothing.rs`): the target is a balance,
    // and a mix's notes are not a deviation from it.
    let smoothed = smooth_db(&a.mid_db, f64::from(MATCH_SMOOTHING_OCT.default));
    // Density: band level less the band's width, which is proportional to its centre.
    let density: Vec<(f64, f64)> = smoothed
        .iter()
        .filter(|p| p.1.is_finite())
        .map(|&(f, db)| (f, db - 10.0 * (f / 1000.0).log10()))
        .collect();
    let fitted: Vec<f64> = density
        .iter()
        .filter(|p| (SLOPE_FROM_HZ..=HIGH_HZ).contains(&p.0))
        .map(|&(f, d)| d - target_shape_db(f))
        .collect();
    let level = if fitted.is_empty() {
        0.0
    } else {
        fitted.iter().sum::<f64>() / fitted.len() as f64
    };
    let points: Vec<AssistPoint> = density
        .iter()
        .map(|&(f, d)| {
            let target = level + target_shape_db(f);
            let dev = d - target;
            let beyond = (dev.abs() - TOLERANCE_DB).max(0.0) * dev.signum();
            let judged = (LOW_HZ..=HIGH_HZ).contains(&f);
            AssistPoint {
                freq_hz: f,
                mix_db: d,
                target_db: target,
                deviation_db: dev,
                wanted_db: if judged { -beyond } else { 0.0 },
            }
        })
        .collect();
    let judged = points
        .iter()
        .filter(|p| (LOW_HZ..=HIGH_HZ).contains(&p.freq_hz))
        .count();
    let outside = points
        .iter()
        .filter(|p| (LOW_HZ..=HIGH_HZ).contains(&p.freq_hz))
        .filter(|p| p.deviation_db.abs() > TOLERANCE_DB)
        .count();
    let curve: Vec<(f64, f64)> = points.iter().map(|p| (p.freq_hz, p.wanted_db)).collect();
    let base = eq.clamped();
    // Each move within ±MAX_MOVE_DB, fitted so (the bounded fit), not clamped afterwards.
    let bounds: Vec<(f64, f64)> = (0..5).map(|_| (-MAX_MOVE_DB, MAX_MOVE_DB)).collect();
    let deltas = fit(
        &curve,
        f64::from(sample_rate),
        5,
        &|i| layout(&base, i),
        &bounds,
    );
    let k = amount_pct / 100.0;
    let moves = (0..5)
        .map(|i| {
            let (_, f, q) = layout(&base, i);
            let suggested = deltas[i].clamp(-MAX_MOVE_DB, MAX_MOVE_DB) as f32;
            let before = *gain_mut(&mut eq.clone(), i);
            let after = EQ_GAIN_DB.clamp(before + suggested * k);
            *gain_mut(eq, i) = after;
            AssistMove {
                band: band_names()[i].to_string(),
                freq_hz: f as f32,
                q: q as f32,
                before_db: before,
                suggested_db: suggested,
                move_db: after - before,
                after_db: after,
            }
        })
        .collect();
    AssistRecord {
        slope_db_per_octave: SLOPE_DB_PER_OCTAVE,
        slope_from_hz: SLOPE_FROM_HZ,
        tolerance_db: TOLERANCE_DB,
        max_move_db: MAX_MOVE_DB,
        amount_pct,
        points,
        moves,
        outside_fraction: outside as f64 / judged.max(1) as f64,
        settings_file: SETTINGS_NAME.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_target_holds_below_100_hz_and_falls_4_5_db_per_octave_above() {
        assert_eq!(target_shape_db(50.0), target_shape_db(100.0));
        assert_eq!(target_shape_db(20.0), target_shape_db(100.0));
        let per_octave = target_shape_db(2000.0) - target_shape_db(1000.0);
        assert!((per_octave - SLOPE_DB_PER_OCTAVE).abs() < 1e-12);
        assert!((target_shape_db(1000.0)).abs() < 1e-12);
    }
}
