//! The band compressors: detector, gain computer and gain ramps, four lanes at a time.
//!
//! The design follows D. Giannoulis, M. Massberg and J. D. Reiss, "Digital Dynamic Range
//! Compressor Design — A Tutorial and Analysis", JAES 60(6), 2012:
//!
//! - the gain computer works in the log domain on the detector level, with their soft knee
//!   (quadratic over a knee of width W centred on the threshold T);
//! - the smoothing sits after the gain computer, in the log domain, as their *smooth
//!   decoupled peak detector*: an instant-attack, released peak follower of the gain
//!   reduction, followed by a one-pole attack filter. Its release does not depend on how far
//!   over the threshold the signal went, and a steady tone gives a steady gain reduction
//!   (a 1 kHz sine 10 dB over the threshold at 4:1 reads 7.5 dB).
//!   Time constants are theirs too: `α = exp(−1/(τ·fs))`, τ the time to 1 − 1/e of a step.
//!
//! **Control rate.** `log` and `exp` per sample and band are the expensive part of a
//! compressor. The level is therefore gathered per sample (cheap: the largest magnitude and
//! the sum of squares), and the log-domain part runs once every `control_period` samples
//! (8 at 44.1/48 kHz, 16 at 88.2/96 kHz, 32 at 176.4/192 kHz: about 0.17 ms), on the
//! period's largest magnitude (peak) or on a one-pole mean square fed with the period's
//! mean square (RMS), with the time constants converted to that step (`α^N`). Between two
//! control points the linear gain moves in a straight line, one step per sample, so it
//! never jumps; the price is that the gain answers a transient up to two periods
//! (≈ 0.35 ms) after it, which is why the shortest attack is 0.5 ms. The control points sit
//! at fixed multiples of the period counted from `reset`, not from block starts, so the
//! output does not depend on the host's block sizes.
//!
//! **Approximations.** `log2` and `exp2` are evaluated from the float's exponent bits and a
//! short polynomial (see [`log2`], [`exp2`]): gain errors under 2e-5 dB, far below the 0.2 dB a
//! meter could show, and bit-exact where it matters (a neutral band's gain is exactly 1).

use super::simd::F4;

/// Smallest detector magnitude (−300 dBFS). Keeps the level's logarithm finite and the mean
/// square (at least its square, 1e-30) away from subnormal numbers.
pub const LEVEL_FLOOR: f32 = 1e-15;

/// Gain-reduction states under this many dB are flushed to 0 (their gain is 1 to f32
/// precision).
const GR_FLUSH_DB: f32 = 1e-6;

/// 10·log10(2): dB of power per octave of power.
const DB_PER_LOG2_POWER: f32 = 3.010_3;
/// log2(10)/20: octaves of gain per dB.
const LOG2_GAIN_PER_DB: f32 = 0.166_096_4;

/// log2(x) for normal x > 0: the exponent from the bits, log2 of the mantissa m = 1 + t,
/// t ∈ [0, 1), from a degree-6 polynomial (least squares on Chebyshev nodes, with p(0) = 0
/// and p(1) = 1 so it is continuous across octaves), evaluated in Estrin's scheme for a
/// short dependency chain. No division. Error < 3e-6 (1e-5 dB of level), plus the f32
/// rounding of the result.
#[inline(always)]
pub fn log2(x: F4) -> F4 {
    const C: [f32; 6] = [
        1.442_527_3,
        -0.717_913_5,
        0.456_540_4,
        -0.275_969,
        0.120_100_26,
        -0.025_285_506,
    ];
    x.map(|v| {
        let bits = v.to_bits();
        let e = ((bits >> 23) as i32 - 127) as f32;
        let t = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000) - 1.0;
        let t2 = t * t;
        let p = (C[0] + C[1] * t) + t2 * (C[2] + C[3] * t) + (t2 * t2) * (C[4] + C[5] * t);
        e + t * p
    })
}

/// 2^y, y clamped to ±126: y = n + f with n the nearest integer, which goes into the
/// exponent bits, and f ∈ [−0.5, 0.5] through a degree-5 polynomial (least squares on
/// Chebyshev nodes, relative error) with p(0) = 1 exactly, so a neutral band's gain 2^0 is
/// exactly 1, and p(½) = 2·p(−½) to 3e-8, so it is continuous. Relative error < 1.1e-7
/// (1e-6 dB).
#[inline(always)]
pub fn exp2(y: F4) -> F4 {
    const P: [f32; 5] = [
        0.693_146_9,
        0.240_222_37,
        0.055_508_66,
        0.009_671_776,
        0.001_322_967_8,
    ];
    // Adding 1.5·2^23 rounds to the nearest integer and leaves it in the low mantissa bits.
    const ROUND: f32 = 12_582_912.0;
    y.map(|v| {
        let v = v.clamp(-126.0, 126.0);
        let big = v + ROUND;
        let f = v - (big - ROUND);
        let n = big.to_bits().wrapping_sub(ROUND.to_bits());
        let scale = f32::from_bits(n.wrapping_add(127) << 23);
        let f2 = f * f;
        let p = (P[0] + P[1] * f) + f2 * (P[2] + P[3] * f) + (f2 * f2) * P[4];
        scale * (1.0 + f * p)
    })
}

/// The values a band group glides toward, derived from the settings (four lanes: two bands,
/// mid and side each).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Targets {
    pub threshold_db: F4,
    pub knee_db: F4,
    /// 1 − 1/ratio: the fraction of the overshoot taken away.
    pub slope: F4,
    pub makeup_db: F4,
    /// 1 while bypassed.
    pub bypass: F4,
    /// 0 while another band is soloed.
    pub audible: F4,
    /// 1 for linked stereo, 0 for mid/side.
    pub link: F4,
    /// 1 for RMS detection, 0 for peak.
    pub rms: F4,
}

/// Per-group time constants (not smoothed: changing a time constant cannot click).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Ballistics {
    /// Attack coefficient per control step, `exp(−N/(τ_a·fs))`.
    pub attack: F4,
    /// Release coefficient per control step.
    pub release: F4,
}

/// Four lanes of band compressors.
#[derive(Debug, Clone, Copy, Default)]
pub struct Group {
    /// Smoothed parameters (same layout as [`Targets`]).
    p: Targets,
    /// slope/(2W), or 0 for a hard knee.
    knee_gain: F4,
    /// The gain is `wet·compressor gain + dry`: audible·(1 − bypass) and audible·bypass.
    wet: F4,
    dry: F4,
    /// Largest detector magnitude since the last control point.
    pub peak: F4,
    /// Sum of the squared detector magnitudes since the last control point.
    pub sum_sq: F4,
    /// Mean square of the detector magnitude (RMS detection).
    ms: F4,
    /// Decoupled detector: released peak follower of the gain reduction (dB) ...
    y1: F4,
    /// ... and its attack-smoothed output, the gain reduction applied (dB, ≥ 0).
    yl: F4,
    /// Linear gain now, its step per sample, and where the ramp ends.
    pub gain: F4,
    pub step: F4,
    gain_end: F4,
}

impl Group {
    /// Cleared detector, parameters at `t`, unity gain ramp.
    pub fn reset(&mut self, t: &Targets) {
        *self = Self {
            peak: F4::splat(LEVEL_FLOOR),
            ms: F4::splat(LEVEL_FLOOR * LEVEL_FLOOR),
            sum_sq: F4::ZERO,
            ..Self::default()
        };
        self.snap(t);
        let g = self.static_gain(F4::ZERO);
        self.gain = g;
        self.gain_end = g;
    }

    /// Parameters jump to their targets (first block after a reset).
    pub fn snap(&mut self, t: &Targets) {
        self.p = *t;
        self.update_derived();
    }

    /// Products of parameters, kept so the control step's dependency chain stays short.
    fn update_derived(&mut self) {
        let inv_2knee = self.p.knee_db.map(|w| if w > 0.0 { 0.5 / w } else { 0.0 });
        self.knee_gain = self.p.slope * inv_2knee;
        self.wet = self.p.audible * (F4::splat(1.0) - self.p.bypass);
        self.dry = self.p.audible * self.p.bypass;
    }

    /// One step of the parameter glide, `c` per control step. Returns true once every
    /// parameter has landed on its target.
    pub fn glide(&mut self, t: &Targets, c: f32) -> bool {
        let c = F4::splat(c);
        let step = |v: F4, t: F4, eps: f32| (v + c * (t - v)).snap_to(t, eps);
        let p = &mut self.p;
        p.threshold_db = step(p.threshold_db, t.threshold_db, 1e-4);
        p.knee_db = step(p.knee_db, t.knee_db, 1e-4);
        p.slope = step(p.slope, t.slope, 1e-6);
        p.makeup_db = step(p.makeup_db, t.makeup_db, 1e-4);
        p.bypass = step(p.bypass, t.bypass, 1e-6);
        p.audible = step(p.audible, t.audible, 1e-6);
        p.link = step(p.link, t.link, 1e-6);
        p.rms = step(p.rms, t.rms, 1e-6);
        self.update_derived();
        self.p == *t
    }

    /// The link weight, for the per-sample detector.
    #[inline(always)]
    pub fn link(&self) -> F4 {
        self.p.link
    }

    /// Per sample: gathers the detector level of the band signals `v`. Linked, each lane
    /// sees |M| + |S| = max(|L|, |R|) of its band (L = M + S, R = M − S); mid/side, its
    /// own magnitude. `link` glides between the two.
    #[inline(always)]
    pub fn detect(peak: &mut F4, sum_sq: &mut F4, v: F4, link: F4) {
        let mag = v.abs();
        let level = (mag + link * mag.swap_pairs()).max(F4::splat(LEVEL_FLOOR));
        *peak = peak.max(level);
        *sum_sq = *sum_sq + level * level;
    }

    /// Gain for a gain reduction `yl` (dB): makeup, bypass and solo applied.
    #[inline(always)]
    fn static_gain(&self, yl: F4) -> F4 {
        let g = exp2((self.p.makeup_db - yl) * F4::splat(LOG2_GAIN_PER_DB));
        self.wet * g + self.dry
    }

    /// The control step: level → gain computer → decoupled detector → next gain ramp.
    /// Returns the gain reduction per lane in dB (≤ 0; 0 while bypassed).
    ///
    /// The mean square is kept at the control rate: the period's mean of the squares feeds
    /// a one-pole with coefficient `rms_coeff` per period (the per-sample one-pole of
    /// [`super::RMS_TIME_CONSTANT_MS`], stepped N samples at a time).
    pub fn control(&mut self, b: &Ballistics, inv_period: f32, rms_coeff: f32) -> F4 {
        let p = &self.p;
        let floor_sq = F4::splat(LEVEL_FLOOR * LEVEL_FLOOR);
        let mean_sq = (self.sum_sq * F4::splat(inv_period)).max(floor_sq);
        self.ms = self.ms + F4::splat(rms_coeff) * (mean_sq - self.ms);
        let peak_power = self.peak * self.peak;
        let power = (F4::splat(1.0) - p.rms) * peak_power + p.rms * self.ms;
        self.peak = F4::splat(LEVEL_FLOOR);
        self.sum_sq = F4::ZERO;

        // Gain computer (Giannoulis et al., soft knee), as the gain reduction x_L ≥ 0:
        // 0 below T − W/2, slope·(d + W/2)²/(2W) inside the knee, slope·d above it, with
        // d = level − T. Clamping d + W/2 to [0, W] gives all three without branches.
        let level_db = log2(power) * F4::splat(DB_PER_LOG2_POWER);
        let d = level_db - p.threshold_db;
        let half = p.knee_db * F4::splat(0.5);
        let q = (d + half).max(F4::ZERO).min(p.knee_db);
        let over = (d - half).max(F4::ZERO);
        let x_l = q * q * self.knee_gain + p.slope * over;

        // Smooth decoupled peak detector (Giannoulis et al.): y1 = max(x_L, release toward
        // x_L), then y_L = attack toward y1. The stored states are flushed, off the path to
        // this step's gain.
        let y1 = x_l.max(x_l + b.release * (self.y1 - x_l));
        let yl = y1 + b.attack * (self.yl - y1);
        self.y1 = y1.flush_below(GR_FLUSH_DB);
        self.yl = yl.flush_below(GR_FLUSH_DB);

        let target = self.static_gain(yl);
        self.gain = self.gain_end;
        self.step = (target - self.gain) * F4::splat(inv_period);
        self.gain_end = target;

        F4::ZERO - self.yl * (F4::splat(1.0) - self.p.bypass)
    }

    pub fn is_finite(&self) -> bool {
        (self.ms + self.y1 + self.yl).is_finite()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log2_and_exp2_are_accurate() {
        let mut worst_log = 0.0f64;
        let mut x = 1e-30f32;
        while x < 1e30 {
            let got = log2(F4::splat(x)).0[0] as f64;
            worst_log = worst_log.max((got - (x as f64).log2()).abs());
            x *= 1.0137;
        }
        assert!(worst_log < 8e-6, "log2 error {worst_log}");
        let mut worst_exp = 0.0f64;
        let mut y = -100.0f32;
        while y < 100.0 {
            let got = exp2(F4::splat(y)).0[0] as f64;
            worst_exp = worst_exp.max((got / (y as f64).exp2() - 1.0).abs());
            y += 0.0173;
        }
        assert!(worst_exp < 2e-7, "exp2 relative error {worst_exp}");
        assert_eq!(exp2(F4::ZERO), F4::splat(1.0));
        assert_eq!(exp2(F4::splat(-3.0)), F4::splat(0.125));
        assert!(exp2(F4::splat(-1e9)).0[0] > 0.0);
        assert!(exp2(F4::splat(1e9)).0[0].is_finite());
    }
}
