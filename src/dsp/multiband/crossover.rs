//! Four-band Linkwitz–Riley crossover with phase compensation.
//!
//! **Filters.** Each crossover is a 4th-order Linkwitz–Riley (LR4) pair: the low pass is two
//! cascaded 2nd-order Butterworth low passes, the high pass two cascaded Butterworth high
//! passes (S. H. Linkwitz, "Active Crossover Networks for Noncoincident Drivers", JAES 24(1),
//! 1976). The two outputs are in phase at every frequency and sum to a 2nd-order allpass,
//! `(s² − √2·s + 1)/(s² + √2·s + 1)`, since `1 + s⁴ = (s² + √2·s + 1)(s² − √2·s + 1)`.
//!
//! Each Butterworth section is the trapezoidal (zero-delay-feedback) state-variable filter
//! (A. Simper, "Linear Trapezoidal Integrated SVF", Cytomic, 2013; V. Zavalishin, "The Art
//! of VA Filter Design", 2018), with k = 1/Q = √2.
//! It is the bilinear transform of the analogue prototype (prewarped at the crossover), so
//! the identities above hold exactly for the digital filters too. Unlike a direct-form
//! biquad it keeps its precision in f32 at low cutoffs and high rates (20 Hz at 192 kHz),
//! and it stays well behaved when its coefficients move (a crossover glide); its low-,
//! band- and high-pass outputs come from one state update, and its allpass is
//! `x − 2k·band`. A sum of states that turns non-finite (which only non-finite input can
//! cause) makes the caller reset the tree.
//!
//! **Phase compensation.** The tree splits at the mid crossover f2 first, then splits the
//! low half at f1 and the high half at f3. Each half also passes through the allpass of the
//! crossover it did not go through, so every band carries all three crossovers' phase
//! (J. A. D'Appolito, "Active Realization of Multiway All-Pass Crossover Systems", JAES
//! 35(4), 1987; the same tree as the multiband compressors in Zölzer's DAFX):
//!
//! ```text
//! band 1 = LP(f1)·LP(f2)·AP(f3)      band 3 = LP(f3)·HP(f2)·AP(f1)
//! band 2 = HP(f1)·LP(f2)·AP(f3)      band 4 = HP(f3)·HP(f2)·AP(f1)
//! sum    = AP(f1)·AP(f2)·AP(f3)      (flat magnitude)
//! ```
//!
//! **Layout.** Mid and side (or mono and a silent side) run through the tree together,
//! four lanes at a time. Both halves of the tree have the same shape (allpass, then split),
//! so after the first split every stage processes `[low·M, low·S, high·M, high·S]` with
//! per-lane coefficients: six 4-lane SVF steps per frame in all.

use super::simd::F4;

/// k = 1/Q of a Butterworth 2nd-order section.
pub const K: f32 = std::f32::consts::SQRT_2;

/// State values under this are flushed to zero on the control cadence, and inputs under it
/// enter the filters as zero (-200 dBFS: inaudible, 56 dB under a 24-bit converter's noise).
/// Why so high: within one sample a value crosses up to four low-pass sections of the tree
/// (two of the middle split, two of the outer one), each scaling a fresh input by g² (g =
/// tan(π·f/fs)); at the lowest crossovers (20, 40, 80 Hz) and 192 kHz that is a factor of
/// 2e-27 in all, so anything under ~6e-12 could land in f32's subnormal range (~1.2e-38)
/// right after a flush (found by `tests/hostile_audio.rs` with a flush line of 1e-20). From
/// 1e-10 the smallest such value is ~2e-37. A state left to decay needs more than 70 samples
/// to fall from 1e-10 into the subnormal range even at the fastest pole of these filters
/// (fs/4, a factor 0.41 per sample), longer than the longest control period.
pub const STATE_FLUSH: f32 = 1e-10;

/// Per-lane coefficients of a Butterworth SVF.
#[derive(Debug, Clone, Copy, Default)]
pub struct SvfCoeffs {
    /// g = tan(π·f/fs), the prewarped integrator gain.
    g: F4,
    /// k + g.
    k_plus_g: F4,
    /// 1/(1 + k·g + g²).
    d: F4,
    /// g².
    g2: F4,
}

/// (g, k + g, 1/(1 + k·g + g²), g²) for a Butterworth section at `hz`, computed in f64.
fn svf_coefficients(hz: f32, sample_rate: f32) -> [f32; 4] {
    // The bilinear transform needs f < fs/2; above 0.49 fs a crossover has nothing left to
    // split anyway (20 kHz is under it from 44.1 kHz up).
    let f = (hz as f64).clamp(1.0, 0.49 * sample_rate as f64);
    let g = (std::f64::consts::PI * f / sample_rate as f64).tan();
    let k = K as f64;
    [
        g as f32,
        (k + g) as f32,
        (1.0 / (1.0 + k * g + g * g)) as f32,
        (g * g) as f32,
    ]
}

impl SvfCoeffs {
    /// Every lane at `hz` (the stereo stage's mono-below filter uses these sections too).
    pub fn uniform(hz: f32, sample_rate: f32) -> Self {
        Self::pair(hz, hz, sample_rate)
    }

    /// Lanes 0–1 at `hz_a`, lanes 2–3 at `hz_b`.
    fn pair(hz_a: f32, hz_b: f32, sample_rate: f32) -> Self {
        let a = svf_coefficients(hz_a, sample_rate);
        let b = svf_coefficients(hz_b, sample_rate);
        let lanes = |i: usize| F4::new(a[i], a[i], b[i], b[i]);
        Self {
            g: lanes(0),
            k_plus_g: lanes(1),
            d: lanes(2),
            g2: lanes(3),
        }
    }
}

/// The two integrator states of one 4-lane SVF.
#[derive(Debug, Clone, Copy, Default)]
pub struct Svf {
    s1: F4,
    s2: F4,
}

impl Svf {
    /// One sample; returns (high, band, low). The zero-delay-feedback form of the
    /// trapezoidal SVF (V. Zavalishin, "The Art of VA Filter Design", 2018, ch. 4; the same
    /// filter as Simper's): it yields all three outputs from ten operations.
    #[inline(always)]
    pub fn tick(&mut self, c: &SvfCoeffs, x: F4) -> (F4, F4, F4) {
        // The state part first, so the input's own path through the filter is short.
        let hp = (x - (c.k_plus_g * self.s1 + self.s2)) * c.d;
        let v = c.g * hp;
        let bp = v + self.s1;
        self.s1 = bp + v;
        let v = c.g * bp;
        let lp = v + self.s2;
        self.s2 = lp + v;
        (hp, bp, lp)
    }

    /// The same filter, with the low pass computed as `g²·hp + (g·s1 + s2)`: three
    /// operations more, but the input reaches the low-pass output in four dependent
    /// operations instead of six. Used where the low pass feeds the next stage, since the
    /// length of that chain, not the operation count, limits the speed here.
    #[inline(always)]
    fn tick_fast_low(&mut self, c: &SvfCoeffs, x: F4) -> (F4, F4) {
        let hp = (x - (c.k_plus_g * self.s1 + self.s2)) * c.d;
        let lp = c.g2 * hp + (c.g * self.s1 + self.s2);
        let v = c.g * hp;
        let bp = v + self.s1;
        self.s1 = bp + v;
        self.s2 = lp + lp - self.s2;
        (hp, lp)
    }

    pub fn flush(&mut self) {
        self.s1 = self.s1.flush_below(STATE_FLUSH);
        self.s2 = self.s2.flush_below(STATE_FLUSH);
    }

    /// The sum of the states (non-finite if any state is).
    pub fn sum(&self) -> F4 {
        self.s1 + self.s2
    }
}

/// Lanes 0–1 from `a`, lanes 2–3 from `b` (one `shufps`).
#[inline(always)]
fn halves(a: F4, b: F4) -> F4 {
    F4::new(a.0[0], a.0[1], b.0[2], b.0[3])
}

/// The crossover tree's coefficients. Kept apart from the state so the per-sample loop can
/// hold both in registers.
#[derive(Debug, Clone, Copy, Default)]
pub struct CrossoverCoeffs {
    /// f2 in every lane: the first split.
    mid: SvfCoeffs,
    /// (f3, f3, f1, f1): the compensating allpasses of the low and high halves.
    comp: SvfCoeffs,
    /// (f1, f1, f3, f3): the second splits.
    outer: SvfCoeffs,
}

impl CrossoverCoeffs {
    /// Coefficients for crossovers `hz` (ascending) at `sample_rate`.
    pub fn new(hz: [f32; 3], sample_rate: f32) -> Self {
        Self {
            mid: SvfCoeffs::pair(hz[1], hz[1], sample_rate),
            comp: SvfCoeffs::pair(hz[2], hz[0], sample_rate),
            outer: SvfCoeffs::pair(hz[0], hz[2], sample_rate),
        }
    }
}

/// The state of the tree: six 4-lane SVFs.
#[derive(Debug, Clone, Copy, Default)]
pub struct Crossover {
    /// Input `[M, S, M, S]`; lanes 0–1 give the low pass, lanes 2–3 the high pass of f2's
    /// first Butterworth section.
    split_a: Svf,
    /// Second Butterworth section of f2: LP on lanes 0–1, HP on lanes 2–3.
    split_b: Svf,
    /// Compensating allpass: f3 on the low half, f1 on the high half.
    allpass: Svf,
    /// First section of the outer splits (f1 on the low half, f3 on the high half).
    outer_a: Svf,
    /// Second sections: low-pass chain and high-pass chain.
    outer_lp: Svf,
    outer_hp: Svf,
}

impl Crossover {
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// Splits one frame of mid `m` and side `s` into four bands. Returns
    /// `([band1·M, band1·S, band3·M, band3·S], [band2·M, band2·S, band4·M, band4·S])`.
    #[inline(always)]
    pub fn tick(&mut self, c: &CrossoverCoeffs, m: f32, s: f32) -> (F4, F4) {
        let (hp, lp) = self.split_a.tick_fast_low(&c.mid, F4::new(m, s, m, s));
        let (hp, lp) = self.split_b.tick_fast_low(&c.mid, halves(lp, hp));
        let x = halves(lp, hp);

        let (_, bp, _) = self.allpass.tick(&c.comp, x);
        let x = x - F4::splat(2.0 * K) * bp;

        let (hp, lp) = self.outer_a.tick_fast_low(&c.outer, x);
        let (_, low) = self.outer_lp.tick_fast_low(&c.outer, lp);
        let (high, _, _) = self.outer_hp.tick(&c.outer, hp);
        (low, high)
    }

    /// Flushes decaying state before it can turn subnormal; called on the control cadence.
    /// Returns false if any state is not finite (only possible with non-finite input, which
    /// the chain removes at its door); the caller then resets.
    pub fn flush(&mut self) -> bool {
        let mut sum = F4::ZERO;
        for svf in [
            &mut self.split_a,
            &mut self.split_b,
            &mut self.allpass,
            &mut self.outer_a,
            &mut self.outer_lp,
            &mut self.outer_hp,
        ] {
            svf.flush();
            sum = sum + svf.sum();
        }
        sum.is_finite()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// |H(f)| of the impulse response `h` by direct DFT, in f64.
    fn magnitude(h: &[f32], f: f64, fs: f64) -> f64 {
        let w = 2.0 * std::f64::consts::PI * f / fs;
        let (mut re, mut im) = (0.0, 0.0);
        for (n, &x) in h.iter().enumerate() {
            re += x as f64 * (w * n as f64).cos();
            im -= x as f64 * (w * n as f64).sin();
        }
        re.hypot(im)
    }

    /// LR4 magnitudes of the bilinear-transformed prototype: `(low, high)` at `f` for a
    /// crossover at `fc`.
    fn lr4(f: f64, fc: f64, fs: f64) -> (f64, f64) {
        let w = (std::f64::consts::PI * f / fs).tan() / (std::f64::consts::PI * fc / fs).tan();
        let w4 = w.powi(4);
        (1.0 / (1.0 + w4), w4 / (1.0 + w4))
    }

    #[test]
    fn every_band_has_the_lr4_shape_and_the_sum_is_allpass() {
        for fs in [44_100.0f32, 192_000.0] {
            let hz = [120.0f32, 1_000.0, 6_000.0];
            let coeffs = CrossoverCoeffs::new(hz, fs);
            let mut xo = Crossover::default();
            let n = 1 << 15;
            let mut bands: Vec<Vec<f32>> = vec![Vec::new(); 4];
            let mut side = [0.0f32; 4];
            for i in 0..n {
                let x = if i == 0 { 1.0 } else { 0.0 };
                let (lo, hi) = xo.tick(&coeffs, x, 0.0);
                for (b, v) in bands.iter_mut().zip([lo.0[0], hi.0[0], lo.0[2], hi.0[2]]) {
                    b.push(v);
                }
                for (s, v) in side.iter_mut().zip([lo.0[1], hi.0[1], lo.0[3], hi.0[3]]) {
                    *s = s.max(v.abs());
                }
            }
            assert_eq!(side, [0.0; 4], "a silent side stays silent");
            let (fs, f1, f2, f3) = (fs as f64, hz[0] as f64, hz[1] as f64, hz[2] as f64);
            for f in [30.0, 120.0, 400.0, 1_000.0, 2_500.0, 6_000.0, 12_000.0] {
                let (l1, h1) = lr4(f, f1, fs);
                let (l2, h2) = lr4(f, f2, fs);
                let (l3, h3) = lr4(f, f3, fs);
                let expected = [l1 * l2, h1 * l2, l3 * h2, h3 * h2];
                for (b, e) in bands.iter().zip(expected) {
                    let got = magnitude(b, f, fs);
                    assert!((got - e).abs() < 2e-5, "{fs} Hz, {f} Hz: {got} vs {e}");
                }
                let sum: Vec<f32> = (0..n)
                    .map(|i| bands[0][i] + bands[1][i] + bands[2][i] + bands[3][i])
                    .collect();
                let db = 20.0 * magnitude(&sum, f, fs).log10();
                assert!(db.abs() < 1e-3, "{fs} Hz, {f} Hz: sum {db} dB");
            }
        }
    }
}
