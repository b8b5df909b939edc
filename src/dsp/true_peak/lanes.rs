//! The detector's inner loops: a run of 8 positions at a time, each kernel's phases
//! accumulated slot by slot. Two twins that compute the same values bit for bit: portable
//! 8-lane arrays, and AVX intrinsics on x86-64 (the auto-vectoriser turned the portable loops
//! into shuffles there; the intrinsics run about twice as fast as SSE2).

use super::{max, KernelGroup, TruePeakDetector, HALF, LANES, TAPS_PER_PHASE};

/// Peaks of `LANES` consecutive positions; `x` holds their windows. The portable twin of
/// `avx::group_peaks`, in 8-lane arrays that LLVM turns into SSE or NEON registers.
pub(super) fn group_peaks(d: &TruePeakDetector, x: &[f32]) -> [f32; LANES] {
    let mut out = [0.0f32; LANES];
    for (half, out) in out.chunks_exact_mut(8).enumerate() {
        let x = &x[8 * half..8 * half + 8 + TruePeakDetector::history()];
        let mut peak: [f32; 8] = x[HALF..HALF + 8].try_into().unwrap();
        for p in &mut peak {
            *p = p.abs();
        }
        for g in &d.groups {
            peak = match g.pairs {
                0 => portable_kernel::<0>(g, x, peak),
                1 => portable_kernel::<1>(g, x, peak),
                3 => portable_kernel::<3>(g, x, peak),
                n => unreachable!("{n} pairs"),
            };
        }
        out.copy_from_slice(&peak);
    }
    out
}

/// One kernel over 8 positions, as `avx::kernel` computes it.
#[inline(always)]
fn portable_kernel<const PAIRS: usize>(g: &KernelGroup, x: &[f32], peak: [f32; 8]) -> [f32; 8] {
    let mut centre = [0.0f32; 8];
    let mut e = [[0.0f32; 8]; PAIRS];
    let mut o = [[0.0f32; 8]; PAIRS];
    let stride = 1 + 2 * PAIRS;
    for (k, c) in (g.first..HALF).zip(g.coeffs.chunks_exact(stride)) {
        let a: &[f32; 8] = x[k..k + 8].try_into().unwrap();
        let b: &[f32; 8] = x[TAPS_PER_PHASE - 1 - k..TAPS_PER_PHASE + 7 - k]
            .try_into()
            .unwrap();
        let mut s = [0.0f32; 8];
        let mut d = [0.0f32; 8];
        for l in 0..8 {
            s[l] = a[l] + b[l];
            d[l] = a[l] - b[l];
        }
        for l in 0..8 {
            centre[l] += c[0] * s[l];
        }
        for p in 0..PAIRS {
            for l in 0..8 {
                e[p][l] += c[1 + 2 * p] * s[l];
                o[p][l] += c[2 + 2 * p] * d[l];
            }
        }
    }
    let mut peak = peak;
    for l in 0..8 {
        peak[l] = max(peak[l], centre[l].abs());
        for p in 0..PAIRS {
            peak[l] = max(
                peak[l],
                max((e[p][l] + o[p][l]).abs(), (e[p][l] - o[p][l]).abs()),
            );
        }
    }
    peak
}

/// The detector's inner loop in AVX intrinsics, 8 positions per register. Lane for lane the
/// same operations in the same order as `position_peak` (multiply, then add; no fused
/// multiply-add). A kernel's window sums and differences are formed once per slot and feed
/// every phase's accumulator, all of them held in registers (at most 7 plus 3 temporaries).
#[cfg(target_arch = "x86_64")]
pub(super) mod avx {
    use super::super::{KernelGroup, TruePeakDetector, HALF, LANES, TAPS_PER_PHASE};
    use std::arch::x86_64::*;

    #[target_feature(enable = "avx")]
    pub(in crate::dsp::true_peak) fn measure(
        d: &TruePeakDetector,
        x: &[f32],
        peaks: &mut [f32],
        skip_up_to: f32,
    ) {
        // The closure inherits this function's target features.
        d.measure_with(x, peaks, skip_up_to, |d, x| group_peaks(d, x));
    }

    #[target_feature(enable = "avx")]
    fn group_peaks(d: &TruePeakDetector, x: &[f32]) -> [f32; LANES] {
        let x = &x[..LANES + TruePeakDetector::history()];
        let mut out = [0.0f32; LANES];
        for half in 0..LANES / 8 {
            let x = &x[8 * half..8 * half + 8 + TruePeakDetector::history()];
            let sign = _mm256_set1_ps(-0.0);
            // SAFETY: `x` holds 8 + history floats; the centre read ends at HALF + 8.
            let mut peak = _mm256_andnot_ps(sign, unsafe { _mm256_loadu_ps(x[HALF..].as_ptr()) });
            for g in &d.groups {
                peak = match g.pairs {
                    0 => kernel::<0>(g, x, peak),
                    1 => kernel::<1>(g, x, peak),
                    3 => kernel::<3>(g, x, peak),
                    n => unreachable!("{n} pairs"),
                };
            }
            // SAFETY: `out` holds LANES floats; this writes 8 from 8·half.
            unsafe { _mm256_storeu_ps(out[8 * half..].as_mut_ptr(), peak) };
        }
        out
    }

    /// One kernel over 8 positions, its `PAIRS` mirrored pairs and centre phase accumulated
    /// slot by slot; returns `peak` raised by every point's magnitude.
    #[target_feature(enable = "avx")]
    fn kernel<const PAIRS: usize>(g: &KernelGroup, x: &[f32], peak: __m256) -> __m256 {
        let zero = _mm256_setzero_ps();
        let (mut centre, mut e, mut o) = (zero, [zero; PAIRS], [zero; PAIRS]);
        let stride = 1 + 2 * PAIRS;
        for (k, c) in (g.first..HALF).zip(g.coeffs.chunks_exact(stride)) {
            let (a, b) = (
                &x[k..k + 8],
                &x[TAPS_PER_PHASE - 1 - k..TAPS_PER_PHASE + 7 - k],
            );
            // SAFETY: both slices hold 8 floats.
            let (a, b) = unsafe { (_mm256_loadu_ps(a.as_ptr()), _mm256_loadu_ps(b.as_ptr())) };
            let (s, d) = (_mm256_add_ps(a, b), _mm256_sub_ps(a, b));
            centre = _mm256_add_ps(centre, _mm256_mul_ps(_mm256_set1_ps(c[0]), s));
            for p in 0..PAIRS {
                e[p] = _mm256_add_ps(e[p], _mm256_mul_ps(_mm256_set1_ps(c[1 + 2 * p]), s));
                o[p] = _mm256_add_ps(o[p], _mm256_mul_ps(_mm256_set1_ps(c[2 + 2 * p]), d));
            }
        }
        let sign = _mm256_set1_ps(-0.0);
        let abs = |v: __m256| _mm256_andnot_ps(sign, v);
        let mut peak = _mm256_max_ps(peak, abs(centre));
        for p in 0..PAIRS {
            let plus = abs(_mm256_add_ps(e[p], o[p]));
            let minus = abs(_mm256_sub_ps(e[p], o[p]));
            peak = _mm256_max_ps(peak, _mm256_max_ps(plus, minus));
        }
        peak
    }
}
