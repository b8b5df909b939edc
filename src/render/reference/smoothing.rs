//! Fractional-octave smoothing of a band spectrum whose window widens toward the bass, so a
//! match curve follows the balance of two recordings, not their notes.
//!
//! The method is the generalised fractional-octave smoothing of P. D. Hatziantoniou and
//! J. N. Mourjopoulos, "Generalized fractional-octave smoothing of audio and acoustic
//! responses", J. Audio Eng. Soc. 48(4), 2000, pp. 259–280: each point becomes a weighted
//! average of the power around it over a window whose width is a fraction of an octave, and
//! that fraction may itself vary with frequency. Here the window is a Hann window in log
//! frequency, [`window_oct`] octaves wide between its zeros, averaging power (the paper's
//! magnitude smoothing on the squared magnitude), so a band twice as loud counts twice.
//!
//! Why wider in the bass: below a few hundred hertz a 1/6-octave band holds one or two notes
//! of the song (a kick's tuning, the key's root), so two songs differ there by which notes
//! they use; measured on the shared mixes, the raw difference swings 10 dB within half an
//! octave at 50–70 Hz. Above 500 Hz a band holds many partials and the spectrum is already
//! smooth. The width therefore grows as `sqrt(500 / f)` below 500 Hz: 1.6 times at 200 Hz,
//! 3.2 times at 50 Hz.

/// Above this the window is [`window_oct`]'s `smoothing_oct` wide; below, it widens.
pub const BASS_FROM_HZ: f64 = 500.0;
/// Widest window, octaves: the bottom of the spectrum (20 Hz) then still averages over less
/// than its lowest three octaves.
pub const MAX_WINDOW_OCT: f64 = 3.0;

/// Width of the smoothing window at `freq_hz`, octaves between the window's zeros.
pub fn window_oct(smoothing_oct: f64, freq_hz: f64) -> f64 {
    let widen = (BASS_FROM_HZ / freq_hz.max(1.0)).max(1.0).sqrt();
    (smoothing_oct * widen).min(MAX_WINDOW_OCT)
}

/// `points` (`(freq_hz, db)` band levels, ascending in frequency) smoothed with
/// [`window_oct`]`(smoothing_oct, f)` at each point. Non-finite levels (silent or missing
/// bands) neither count in their neighbours' averages nor are filled in. `smoothing_oct` of
/// 0 (or less) returns the points as they are.
pub fn smooth_db(points: &[(f64, f64)], smoothing_oct: f64) -> Vec<(f64, f64)> {
    if smoothing_oct.is_nan() || smoothing_oct <= 0.0 {
        return points.to_vec();
    }
    points
        .iter()
        .map(|&(f, db)| {
            if !db.is_finite() || f <= 0.0 {
                return (f, db);
            }
            let half = 0.5 * window_oct(smoothing_oct, f);
            let (mut sum, mut weight) = (0.0, 0.0);
            for &(g, other) in points {
                if !other.is_finite() || g <= 0.0 {
                    continue;
                }
                let d = (g / f).log2().abs();
                if d >= half {
                    continue;
                }
                let w = 0.5 + 0.5 * (std::f64::consts::PI * d / half).cos();
                sum += w * 10f64.powf(other / 10.0);
                weight += w;
            }
            (f, 10.0 * (sum / weight).log10())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sixth_octaves() -> Vec<f64> {
        (0..60).map(|k| 20.0 * 2f64.powf(k as f64 / 6.0)).collect()
    }

    #[test]
    fn the_window_widens_toward_the_bass_only() {
        assert_eq!(window_oct(0.5, 1000.0), 0.5);
        assert_eq!(window_oct(0.5, 500.0), 0.5);
        assert!((window_oct(0.5, 125.0) - 1.0).abs() < 1e-12);
        assert_eq!(window_oct(2.0, 20.0), MAX_WINDOW_OCT);
        assert_eq!(window_oct(0.0, 50.0), 0.0);
    }

    #[test]
    fn a_flat_spectrum_stays_flat_and_zero_width_is_identity() {
        let flat: Vec<(f64, f64)> = sixth_octaves().into_iter().map(|f| (f, -7.0)).collect();
        for (a, b) in smooth_db(&flat, 0.5).iter().zip(&flat) {
            assert!((a.1 - b.1).abs() < 1e-9);
        }
        assert_eq!(smooth_db(&flat, 0.0), flat);
    }

    /// One loud note in a flat bass: smoothing spreads it, and its peak falls by the share
    /// of the window it occupies.
    #[test]
    fn a_note_is_spread_over_the_window() {
        let pts: Vec<(f64, f64)> = sixth_octaves()
            .into_iter()
            .enumerate()
            .map(|(k, f)| (f, if k == 10 { 10.0 } else { 0.0 }))
            .collect();
        let s = smooth_db(&pts, 0.5);
        assert!(s[10].1 < 5.0 && s[10].1 > 0.5, "{:?}", s[10]);
        assert!(s[9].1 > 0.3 && s[11].1 > 0.3);
        let step = s
            .windows(2)
            .map(|w| (w[1].1 - w[0].1).abs())
            .fold(0.0, f64::max);
        // A 10 dB note at 63 Hz leaves steps of 2.59 dB (measured): power averaging keeps
        // some of a loud note; `match_curves` limits the slope of what remains.
        assert!(step < 3.0, "{step}");
        // Silent bands stay silent and do not pull their neighbours down.
        let mut holes = pts.clone();
        holes[20].1 = f64::NEG_INFINITY;
        let s = smooth_db(&holes, 0.5);
        assert!(s[20].1.is_infinite());
        assert!(s[21].1.abs() < 1e-9);
    }
}
