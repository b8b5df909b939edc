//! Fitting the match curve's fixed sections (`match_curve.rs`) to a wanted curve: gains by
//! least squares over the curve's points, in dB.
//!
//! The cascade's dB response is the sum of its sections' dB responses, and each section's
//! response is nearly linear in its dB gain, so the fit is a small linear least-squares
//! problem, refined by a few Gauss-Newton steps for the remaining non-linearity (a bell's
//! width changes a little with its gain). A light ridge term (Tikhonov) keeps neighbouring
//! sections from pulling against each other with large opposite gains where the curve gives
//! them little to tell apart (at the ends, and where shelves and bells overlap).
//!
//! Every step is solved with each section's gain held inside its own bounds
//! (`least_squares::solve_bounded`, Lawson & Hanson's active-set method), not solved freely
//! and clamped: clamping one of two neighbours that cancel leaves the other's excess in the
//! curve, while the bounded solve hands it to the sections that can still move.
//!
//! Not real-time code: it allocates, and runs once per reference (in the renderer, or on the
//! plugin's background thread).

use super::bands::{self, Kind, Target};
use super::design::{self, Designer};
use super::least_squares::solve_bounded;
use super::match_curve::{mid_section, side_section, MATCH_SECTIONS, SIDE_BANDS};

/// Lower and upper bound of one section's gain, dB.
pub type Bounds = (f64, f64);

/// Ridge weight per point of the curve, relative to a 1 dB residual: small enough that a
/// curve the sections can follow is followed within a few hundredths of a dB, large enough
/// that the normal equations stay well conditioned.
const RIDGE: f64 = 0.02;
/// Gauss-Newton refinements after the first linear solve.
const ITERATIONS: usize = 6;
/// Step for the numerical derivative of a section's dB response in its gain, dB.
const STEP_DB: f64 = 0.25;

/// Gains (dB, at 100 %) of the mid sections, in signal order, that best reproduce `curve`
/// (`(freq_hz, gain_db)` points) at `sample_rate`, section `i` within `bounds[i]`. Points at
/// or above Nyquist are ignored.
pub fn fit_mid(
    curve: &[(f64, f64)],
    sample_rate: f64,
    bounds: &[Bounds; MATCH_SECTIONS],
) -> [f32; MATCH_SECTIONS] {
    let g = fit(curve, sample_rate, MATCH_SECTIONS, &mid_section, bounds);
    std::array::from_fn(|i| g[i] as f32)
}

/// Gains (dB, at 100 %) of the side-only sections that best reproduce `curve`, section `i`
/// within `bounds[i]`.
pub fn fit_side(
    curve: &[(f64, f64)],
    sample_rate: f64,
    bounds: &[Bounds; SIDE_BANDS],
) -> [f32; SIDE_BANDS] {
    let g = fit(curve, sample_rate, SIDE_BANDS, &side_section, bounds);
    std::array::from_fn(|i| g[i] as f32)
}

fn section_db(designer: &Designer, section: (Kind, f64, f64), gain_db: f64, w: f64) -> f64 {
    if gain_db == 0.0 {
        return 0.0;
    }
    let t = Target {
        log2_freq: section.1.log2(),
        ln_q: section.2.ln(),
        amount: gain_db,
    };
    10.0 * bands::design(section.0, &t, designer)
        .magnitude_sq(w)
        .log10()
}

/// Gains (dB) of `n` sections, section `i` of kind, frequency and Q `layout(i)`, that best
/// reproduce `curve` at `sample_rate`, gain `i` within `bounds[i]`: the fit behind
/// [`fit_mid`] and [`fit_side`], open to other fixed sets of sections (the tonal-balance
/// assistant fits the tonal EQ's own bands).
pub fn fit(
    curve: &[(f64, f64)],
    sample_rate: f64,
    n: usize,
    layout: &dyn Fn(usize) -> (Kind, f64, f64),
    bounds: &[Bounds],
) -> Vec<f64> {
    let designer = Designer::new(sample_rate);
    let points: Vec<(f64, f64)> = curve
        .iter()
        .filter(|(f, g)| f.is_finite() && g.is_finite() && *f > 0.0 && *f < 0.5 * sample_rate)
        .map(|&(f, g)| (design::omega(f, sample_rate), g))
        .collect();
    let mut gains = vec![0.0f64; n];
    if points.is_empty() {
        return gains;
    }
    let ridge = RIDGE * points.len() as f64 / n as f64;
    let sections: Vec<_> = (0..n).map(layout).collect();
    for _ in 0..=ITERATIONS {
        // Per section and point: the response at the current gain and its slope in the gain.
        let mut jac = vec![vec![0.0; points.len()]; n];
        let mut model = vec![0.0; points.len()];
        for (i, s) in sections.iter().enumerate() {
            for (j, &(w, _)) in points.iter().enumerate() {
                let here = section_db(&designer, *s, gains[i], w);
                let up = section_db(&designer, *s, gains[i] + STEP_DB, w);
                let down = section_db(&designer, *s, gains[i] - STEP_DB, w);
                model[j] += here;
                jac[i][j] = (up - down) / (2.0 * STEP_DB);
            }
        }
        // (JᵀJ + λI) Δ = Jᵀr - λg: the step that minimises |r - JΔ|² + λ|g + Δ|².
        let mut a = vec![vec![0.0; n]; n];
        let mut b = vec![0.0; n];
        for i in 0..n {
            for k in 0..n {
                a[i][k] = jac[i].iter().zip(&jac[k]).map(|(x, y)| x * y).sum();
            }
            a[i][i] += ridge;
            b[i] = jac[i]
                .iter()
                .zip(points.iter().zip(&model))
                .map(|(d, ((_, want), got))| d * (want - got))
                .sum::<f64>()
                - ridge * gains[i];
        }
        // The step keeps every gain inside its bounds: lo - g ≤ Δ ≤ hi - g.
        let lo: Vec<f64> = (0..n).map(|i| bounds[i].0 - gains[i]).collect();
        let hi: Vec<f64> = (0..n).map(|i| bounds[i].1 - gains[i]).collect();
        let Some(step) = solve_bounded(&a, &b, &lo, &hi) else {
            break;
        };
        for (i, (g, d)) in gains.iter_mut().zip(step).enumerate() {
            *g = (*g + d).clamp(bounds[i].0, bounds[i].1.max(bounds[i].0));
        }
    }
    gains
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::eq::match_curve::{MatchEq, MatchEqSettings};

    #[test]
    fn a_flat_curve_fits_flat_and_a_tilt_is_followed() {
        let pts: Vec<(f64, f64)> = (0..61)
            .map(|k| (1000.0 * 2f64.powf((k as f64 - 34.0) / 6.0), 0.0))
            .collect();
        assert!(fit_mid(&pts, 48_000.0, &[(-6.0, 6.0); MATCH_SECTIONS])
            .iter()
            .all(|g| g.abs() < 1e-9));
        // A -3 dB/octave tilt through 1 kHz, limited to ±6 dB.
        let tilt: Vec<(f64, f64)> = pts
            .iter()
            .map(|&(f, _)| (f, (-3.0 * (f / 1000.0).log2()).clamp(-6.0, 6.0)))
            .collect();
        let mut s = MatchEqSettings {
            amount_pct: 100.0,
            ..Default::default()
        };
        s.set_mid_gains_db(&fit_mid(&tilt, 48_000.0, &[(-6.0, 6.0); MATCH_SECTIONS]));
        for &(f, want) in tilt.iter().filter(|(f, _)| (40.0..=16_000.0).contains(f)) {
            let got = MatchEq::magnitude_db(&s, 48_000.0, f as f32) as f64;
            assert!((got - want).abs() < 0.5, "{f} Hz: {got} vs {want}");
        }
    }
}
