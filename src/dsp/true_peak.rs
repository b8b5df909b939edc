//! Oversampled (inter-sample) peak detection.
//!
//! ITU-R BS.1770-4 Annex 2 estimates the true peak of a signal by oversampling it (4x at
//! 48 kHz) and taking the largest magnitude. A limiter that only looks at the samples lets the
//! reconstructed waveform overshoot its ceiling by several dB on bright material, so Lathe's
//! limiter looks at an oversampled signal instead: 8x up to 96 kHz, 4x above, where content
//! near Nyquist is rare (at 176.4 and 192 kHz a 2x grid reads EBU Tech 3341 cases 21 and 23
//! 0.46 dB low, outside the Tech 3341 tolerance; 4x reads them within it).
//!
//! The limiter's detector takes the largest reading of three interpolators (see
//! [`TruePeakDetector::new`]); the meters' ([`TruePeakDetector::for_meter`]) is the one
//! BS.1770-4 Annex 2 sketches. The interpolators are polyphase windowed sincs, evaluated only
//! at the phases between samples: phase 0 is the sample itself, which is taken as is.
//!
//! Speed: the detector is a pure function of the input, so it measures a whole run of
//! positions at once ([`TruePeakDetector::measure`]), vectorised across consecutive positions
//! (16 lanes: two AVX registers, four SSE ones). Every lane runs exactly the scalar sum in the
//! same order (`acc = acc + c·x`, no fused multiply-add), so the result does not depend on the
//! instruction set, the lane a position falls in or the block split. Runs of positions that a
//! cheap bound proves cannot exceed a caller's level are skipped (see `bound_gain`).

use super::sanitize::flush;
use super::windowed_sinc::{hann, kaiser, sinc};

mod lanes;
mod meter;

pub use meter::TruePeakMeter;

/// Window length, in input samples, the detector looks at for one interpolated point.
pub const TAPS_PER_PHASE: usize = 128;
/// Kaiser β of the accurate kernel. With 128 taps (±64 samples) and β = 8 it is the
/// reconstruction filter of a good DAC: flat within 0.001 dB to 0.46 fs (20.3 kHz at
/// 44.1 kHz), -6 dB at Nyquist. Shorter kernels droop sooner and read transients with energy
/// near Nyquist (the aliased harmonics of a naive square wave, the cut-off end of a 20 kHz
/// tone, clicks in noise) up to 0.5 dB lower than such a DAC reconstructs them; we measured
/// 0.48 dB with the 32-tap kernel Lathe used before (tests/limiter_ceiling.rs).
const KAISER_BETA: f64 = 8.0;
/// The meter kernel: BS.1770-4 Annex 2 only sketches the interpolator, and the common meters
/// (libebur128 and the ebur128 crate) use a 48-tap Hann-windowed sinc at 4x below 96 kHz and
/// at 2x below 192 kHz. Such a short kernel leaks images above Nyquist and reads transients
/// with energy near Nyquist *higher* than the ideal reconstruction does (we measured 0.3 dB
/// on a hard-limited drum bus at 48 kHz). A limiter graded by those meters has to see what
/// they see, so the detector also evaluates that kernel, at exactly the meters' points (k/4
/// or k/2 of a sample, which our grid holds), so it never reads lower than they do.
const METER_KERNEL_TAPS: usize = 48;
/// The verification kernel: scipy's `resample_poly` as independent 16x checks use it
/// (Kaiser β = 12 over ±10 samples) leaks differently again.
const VERIFY_KERNEL_TAPS: usize = 20;
const VERIFY_KERNEL_BETA: f64 = 12.0;

/// Positions measured together: two 256-bit registers of f32.
const LANES: usize = 16;

/// The limiter's oversampling factor for a sample rate.
pub fn oversampling_for(sample_rate: f32) -> usize {
    if sample_rate <= 100_000.0 {
        8
    } else {
        4
    }
}

/// The meters' own factor (libebur128: 4x below 96 kHz, 2x below 192 kHz, none above).
fn meter_factor(sample_rate: f32) -> usize {
    if sample_rate < 96_000.0 {
        4
    } else if sample_rate < 192_000.0 {
        2
    } else {
        1
    }
}

/// Half the window: the symmetric slots `k` run over `0..HALF`.
const HALF: usize = TAPS_PER_PHASE / 2;

/// One kernel's points between two samples, computed in one pass over the window. Every
/// kernel is centred on the gap between window slots `HALF - 1` and `HALF`, and its phase
/// `F - p` is its phase `p` reversed. With `S_k = x_k + x_{T-1-k}` and `D_k = x_k - x_{T-1-k}`,
/// the point at phase `p` is `E_p + O_p` and the one at `F - p` is `E_p - O_p`, where
/// `E_p = Σ even_p[k]·S_k` and `O_p = Σ odd_p[k]·D_k` over the kernel's half of the window:
/// half the multiplies of two plain dot products. The centre phase (p = F/2) is its own
/// mirror and has no odd part.
#[derive(Debug, Clone)]
struct KernelGroup {
    /// First symmetric slot the kernel reaches (`HALF - taps/2`).
    first: usize,
    /// Mirrored pairs of phases besides the centre phase.
    pairs: usize,
    /// Per slot from `first`: the centre's even coefficient, then each pair's even and odd.
    coeffs: Vec<f32>,
}

impl KernelGroup {
    fn stride(&self) -> usize {
        1 + 2 * self.pairs
    }
}

/// The interpolation kernels for one sample rate. It holds no signal: [`Self::measure`] reads
/// the history it is given, so one detector serves any number of channels.
#[derive(Debug, Clone)]
pub struct TruePeakDetector {
    factor: usize,
    groups: Vec<KernelGroup>,
    /// The first symmetric slot any kernel reaches.
    first_slot: usize,
    bound_gain: f32,
    avx: bool,
}

/// One interpolator: `taps` coefficients shaped by `window`, evaluated at every `step`-th
/// phase of the detector's grid.
struct Kernel<'a> {
    taps: usize,
    step: usize,
    window: &'a dyn Fn(f64) -> f64,
}

impl TruePeakDetector {
    /// The limiter's detector: the largest reading of the accurate kernel (a DAC's
    /// reconstruction), the verification meters' kernel and the loudness meters' kernel at the
    /// loudness meters' own points, on an 8x grid (4x above 100 kHz).
    pub fn new(sample_rate: f32) -> Self {
        let factor = oversampling_for(sample_rate);
        let accurate = kaiser(KAISER_BETA);
        let verify = kaiser(VERIFY_KERNEL_BETA);
        let meter = meter_factor(sample_rate);
        let mut kernels = vec![
            Kernel {
                taps: TAPS_PER_PHASE,
                step: 1,
                window: &accurate,
            },
            Kernel {
                taps: VERIFY_KERNEL_TAPS,
                step: 1,
                window: &verify,
            },
        ];
        if meter > 1 {
            kernels.push(Kernel {
                taps: METER_KERNEL_TAPS / meter,
                step: factor / meter,
                window: &hann,
            });
        }
        Self::build(factor, &kernels)
    }

    /// A meter's detector, per BS.1770-4 Annex 2 as libebur128 reads it: the 48-tap
    /// Hann-windowed sinc at 4x, here at every rate (libebur128 drops to 2x from 96 kHz and to
    /// none from 192 kHz, and misses EBU Tech 3341 there).
    pub fn for_meter(_sample_rate: f32) -> Self {
        Self::build(
            4,
            &[Kernel {
                taps: METER_KERNEL_TAPS / 4,
                step: 1,
                window: &hann,
            }],
        )
    }

    fn build(factor: usize, kernels: &[Kernel]) -> Self {
        let mut bound_gain = 1.0f64;
        let mut groups = Vec::new();
        for k in kernels {
            assert!(
                (factor / 2).is_multiple_of(k.step),
                "every kernel has a centre phase"
            );
            let half = k.taps / 2;
            // Coefficients of phase p, for kernel slots 0..taps: slot j lies at distance
            // `half - 1 - j + p/F` from the interpolated point.
            let phase = |p: usize| -> Vec<f64> {
                let frac = p as f64 / factor as f64;
                (0..k.taps)
                    .map(|j| {
                        let tau = half as f64 - 1.0 - j as f64 + frac;
                        sinc(tau) * (k.window)(tau / half as f64)
                    })
                    .collect()
            };
            let pairs: Vec<Vec<f64>> = (k.step..factor / 2).step_by(k.step).map(phase).collect();
            let centre = phase(factor / 2);
            for c in pairs.iter().chain([&centre]) {
                bound_gain = bound_gain.max(c.iter().map(|v| v.abs()).sum());
            }
            let mut coeffs = Vec::new();
            for j in 0..half {
                let m = k.taps - 1 - j;
                coeffs.push(((centre[j] + centre[m]) / 2.0) as f32);
                for c in &pairs {
                    coeffs.push(((c[j] + c[m]) / 2.0) as f32);
                    coeffs.push(((c[j] - c[m]) / 2.0) as f32);
                }
            }
            groups.push(KernelGroup {
                first: HALF - half,
                pairs: pairs.len(),
                coeffs,
            });
        }
        Self {
            factor,
            first_slot: groups.iter().map(|g| g.first).min().unwrap_or(HALF),
            groups,
            // No reading can exceed the window's largest magnitude times the largest sum of
            // absolute coefficients of any kernel (the sample itself has gain 1). Rounded up a
            // little so f32 rounding in the sums can never beat the bound.
            bound_gain: (bound_gain * (1.0 + 1e-4)) as f32,
            avx: avx_available(),
        }
    }

    pub fn factor(&self) -> usize {
        self.factor
    }

    /// Samples between the newest input and the interval whose peak is measured.
    pub const fn delay() -> usize {
        TAPS_PER_PHASE / 2 - 1
    }

    /// Input samples a measurement reads before the first position: a run of `n` positions
    /// takes `n + history()` samples.
    pub const fn history() -> usize {
        TAPS_PER_PHASE - 1
    }

    /// No reading exceeds `bound_gain()` times the largest magnitude in its window.
    pub fn bound_gain(&self) -> f32 {
        self.bound_gain
    }

    /// Measures `peaks.len()` consecutive positions of one channel. `x` holds the input, oldest
    /// first, `history()` samples more than there are positions; position `i` reads
    /// `x[i..i + TAPS_PER_PHASE]` and measures the interval that ends at `x[i + delay() + 1]`
    /// (that sample and the reconstructed waveform back to the one before it). Each reading is
    /// folded into `peaks[i]` with `max`, so channels measured one after the other share one
    /// peak per position.
    ///
    /// Runs of positions whose readings provably cannot exceed `skip_up_to` are not evaluated
    /// (their `peaks` stay as they are): the caller only needs peaks above that level.
    pub fn measure(&self, x: &[f32], peaks: &mut [f32], skip_up_to: f32) {
        assert!(x.len() >= peaks.len() + Self::history());
        #[cfg(target_arch = "x86_64")]
        if self.avx {
            // SAFETY: `avx` is only set when the CPU reports AVX (`avx_available`).
            unsafe { lanes::avx::measure(self, x, peaks, skip_up_to) };
            return;
        }
        self.measure_with(x, peaks, skip_up_to, lanes::group_peaks);
    }

    /// Measures in groups of `LANES` positions with `group`, skipping groups under the level,
    /// and the positions left over one by one.
    #[inline(always)]
    fn measure_with(
        &self,
        x: &[f32],
        peaks: &mut [f32],
        skip_up_to: f32,
        group: impl Fn(&Self, &[f32]) -> [f32; LANES],
    ) {
        let n = peaks.len();
        let level = skip_up_to / self.bound_gain;
        // The samples the kernels reach, for the bound.
        let (lo, hi) = (self.first_slot, Self::history() - self.first_slot);
        let mut i = 0;
        while i + LANES <= n {
            if max_abs(&x[i + lo..i + LANES + hi]) > level {
                let span = &x[i..i + LANES + Self::history()];
                for (p, g) in peaks[i..i + LANES].iter_mut().zip(group(self, span)) {
                    *p = p.max(flush(g));
                }
            }
            i += LANES;
        }
        if i < n && max_abs(&x[i + lo..n + hi]) > level {
            for (k, p) in peaks[i..].iter_mut().enumerate() {
                *p = p.max(flush(self.position_peak(&x[i + k..i + k + TAPS_PER_PHASE])));
            }
        }
    }

    /// The peak of one position: every accumulator sums its terms in slot order, a multiply
    /// then an add, exactly as each lane of `avx::group_peaks` does.
    fn position_peak(&self, window: &[f32]) -> f32 {
        let mut peak = window[HALF].abs();
        let mut e = [0.0f32; MAX_PAIRS];
        let mut o = [0.0f32; MAX_PAIRS];
        for g in &self.groups {
            let mut centre = 0.0f32;
            e.fill(0.0);
            o.fill(0.0);
            for (k, c) in (g.first..HALF).zip(g.coeffs.chunks_exact(g.stride())) {
                let (a, b) = (window[k], window[TAPS_PER_PHASE - 1 - k]);
                let (s, d) = (a + b, a - b);
                centre += c[0] * s;
                for p in 0..g.pairs {
                    e[p] += c[1 + 2 * p] * s;
                    o[p] += c[2 + 2 * p] * d;
                }
            }
            peak = max(peak, centre.abs());
            for p in 0..g.pairs {
                peak = max(peak, max((e[p] + o[p]).abs(), (e[p] - o[p]).abs()));
            }
        }
        peak
    }
}

/// The most mirrored pairs a kernel has (an 8x grid: phases 1|7, 2|6, 3|5 around 4).
const MAX_PAIRS: usize = 3;

/// `a.max(b)` for values that are never NaN, in the form that compiles to one `maxps`.
#[inline(always)]
fn max(a: f32, b: f32) -> f32 {
    if b > a {
        b
    } else {
        a
    }
}

#[cfg(target_arch = "x86_64")]
fn avx_available() -> bool {
    std::is_x86_feature_detected!("avx")
}

#[cfg(not(target_arch = "x86_64"))]
fn avx_available() -> bool {
    false
}

/// Largest magnitude in `x`, in eight lanes so it vectorises.
#[inline(always)]
pub fn max_abs(x: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let mut chunks = x.chunks_exact(8);
    for c in &mut chunks {
        for (m, &s) in lanes.iter_mut().zip(c) {
            let a = s.abs();
            *m = if a > *m { a } else { *m };
        }
    }
    let mut m = chunks
        .remainder()
        .iter()
        .fold(0.0f32, |m, &s| if s.abs() > m { s.abs() } else { m });
    for l in lanes {
        m = if l > m { l } else { m };
    }
    m
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::dsp::windowed_sinc::bessel_i0;

    /// Runs a sine through the meter and returns the largest detected peak / amplitude.
    fn detected_over_true(freq: f32, rate: f32, phase: f32) -> f32 {
        let x: Vec<f32> = (0..4096)
            .map(|n| (2.0 * std::f32::consts::PI * freq * n as f32 / rate + phase).sin() * 0.5)
            .collect();
        let d = TruePeakDetector::new(rate);
        let mut peaks = vec![0.0; x.len() - TruePeakDetector::history()];
        d.measure(&x, &mut peaks, 0.0);
        // Skip the start, where the window still reaches before the sine begins.
        peaks[64..].iter().fold(0.0f32, |a, &b| a.max(b)) / 0.5
    }

    #[test]
    fn interpolation_finds_inter_sample_peaks_up_to_20_khz() {
        for rate in [44_100.0, 48_000.0, 96_000.0, 192_000.0] {
            for freq in [997.0, 5_000.0, 11_025.0, 15_000.0, 19_000.0, 20_000.0] {
                for phase in [0.0, 0.3, 0.785, 1.2] {
                    let r = detected_over_true(freq, rate, phase);
                    let db = 20.0 * r.log10();
                    // Never more than 0.1 dB low (a low reading lets overs through). The
                    // meter kernel's passband ripple may read up to ~0.15 dB high, as the
                    // meters themselves do; that costs a hair of loudness, no more.
                    assert!(
                        db > -0.1,
                        "{rate} Hz rate, {freq} Hz, phase {phase}: {db} dB"
                    );
                    assert!(
                        db < 0.2,
                        "{rate} Hz rate, {freq} Hz, phase {phase}: {db} dB"
                    );
                }
            }
        }
    }

    #[test]
    fn fs_over_4_at_45_degrees_reads_3_db_over_the_samples() {
        // EBU Tech 3341 case 16's principle: a sine at fs/4 sampled at ±45° has sample
        // peaks at 1/√2 of its true peak.
        let rate = 48_000.0;
        let r = detected_over_true(12_000.0, rate, std::f32::consts::FRAC_PI_4);
        assert!((20.0 * r.log10()).abs() < 0.05, "{r}");
    }

    pub(super) fn noise(len: usize, seed: u64) -> Vec<f32> {
        let mut s = seed;
        (0..len)
            .map(|n| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                // Bursts and silences, so both the skip and the full path run.
                let level = if (n / 300) % 3 == 0 { 0.0 } else { 1.5 };
                ((s >> 40) as f32 / (1u64 << 23) as f32 - 1.0) * level
            })
            .collect()
    }

    #[test]
    fn every_lane_sums_like_the_scalar_reference_on_every_instruction_set() {
        for rate in [44_100.0, 96_000.0, 192_000.0] {
            let d = TruePeakDetector::new(rate);
            let x = noise(5000, 99);
            let n = x.len() - TruePeakDetector::history();
            let reference: Vec<f32> = (0..n)
                .map(|i| flush(d.position_peak(&x[i..i + TAPS_PER_PHASE])))
                .collect();
            let mut fast = vec![0.0; n];
            d.measure(&x, &mut fast, 0.0);
            assert_eq!(fast, reference, "{rate} Hz (avx: {})", d.avx);
            let mut portable = vec![0.0; n];
            d.measure_with(&x, &mut portable, 0.0, lanes::group_peaks);
            assert_eq!(portable, reference, "{rate} Hz, portable path");
            // Any split into runs gives the same readings.
            let mut split = vec![0.0; n];
            let mut start = 0;
            for len in [1usize, 7, 16, 33, 100, 5000].iter().cycle() {
                if start >= n {
                    break;
                }
                let end = (start + len).min(n);
                d.measure(
                    &x[start..end + TruePeakDetector::history()],
                    &mut split[start..end],
                    0.0,
                );
                start = end;
            }
            assert_eq!(split, reference, "{rate} Hz, split");
        }
    }

    /// The plain polyphase evaluation, in f64: every kernel at every phase of its grid
    /// (mirrored phases included), as dot products.
    fn direct_peak(rate: f32, window: &[f32]) -> f64 {
        let factor = oversampling_for(rate);
        let kaiser = |beta: f64| {
            move |r: f64| {
                if r.abs() >= 1.0 {
                    0.0
                } else {
                    bessel_i0(beta * (1.0 - r * r).sqrt()) / bessel_i0(beta)
                }
            }
        };
        let hann = |r: f64| 0.5 * (1.0 + (std::f64::consts::PI * r).cos());
        type Window = Box<dyn Fn(f64) -> f64>;
        let mut kernels: Vec<(usize, usize, Window)> = vec![
            (TAPS_PER_PHASE, 1, Box::new(kaiser(KAISER_BETA))),
            (20, 1, Box::new(kaiser(12.0))),
        ];
        if meter_factor(rate) > 1 {
            let m = meter_factor(rate);
            kernels.push((48 / m, factor / m, Box::new(hann)));
        }
        let mut peak = window[HALF].abs() as f64;
        for (taps, step, w) in &kernels {
            let half = taps / 2;
            for phase in (*step..factor).step_by(*step) {
                let frac = phase as f64 / factor as f64;
                let y: f64 = (0..*taps)
                    .map(|j| {
                        let tau = half as f64 - 1.0 - j as f64 + frac;
                        sinc(tau) * w(tau / half as f64) * window[HALF - half + j] as f64
                    })
                    .sum();
                peak = peak.max(y.abs());
            }
        }
        peak
    }

    #[test]
    fn the_mirrored_evaluation_equals_plain_dot_products() {
        for rate in [44_100.0, 96_000.0, 176_400.0, 192_000.0] {
            let d = TruePeakDetector::new(rate);
            let x = noise(3000, 5);
            let n = x.len() - TruePeakDetector::history();
            let mut fast = vec![0.0; n];
            d.measure(&x, &mut fast, 0.0);
            for (i, &p) in fast.iter().enumerate() {
                let want = direct_peak(rate, &x[i..i + TAPS_PER_PHASE]);
                assert!(
                    (p as f64 - want).abs() <= 1e-5 * want.max(1.0),
                    "{rate}: {i}"
                );
            }
        }
    }

    #[test]
    fn skipped_positions_are_exactly_those_that_cannot_exceed_the_level() {
        let d = TruePeakDetector::new(48_000.0);
        let x = noise(6000, 7);
        let n = x.len() - TruePeakDetector::history();
        let mut all = vec![0.0; n];
        d.measure(&x, &mut all, 0.0);
        for level in [0.5f32, 1.0, 2.0, 4.0] {
            let mut some = vec![0.0; n];
            d.measure(&x, &mut some, level);
            for (i, (&a, &s)) in all.iter().zip(&some).enumerate() {
                // Either measured exactly, or skipped because it stays at or under the level.
                assert!(
                    s == a || (s == 0.0 && a <= level),
                    "{level}: {i}: {a} vs {s}"
                );
            }
        }
        // And the bound holds: no reading above bound_gain times its window's largest sample.
        for (i, &p) in all.iter().enumerate() {
            let m = max_abs(&x[i..i + TAPS_PER_PHASE]);
            assert!(p <= m * d.bound_gain(), "{i}");
        }
    }
}
