//! Keeps non-finite and subnormal samples out of the chain.
//!
//! nice-plug does not flush denormals, and hosts and files can hand us NaN or ±Inf. A NaN that
//! reaches a recursive filter or the limiter's envelope stays there for good, and subnormal
//! numbers cost x86 cores up to ~100x per operation. Finite but absurd values are as bad: a
//! sample near f32::MAX overflows to Inf at the first gain above 0 dB, and Inf becomes NaN
//! in the next filter or in the limiter's `Inf × 0`. So every sample is checked once, at the
//! door, before any stage keeps state from it (`tests/hostile_audio.rs`).

/// Below this magnitude a sample is treated as silence (about -600 dBFS, far under any
/// converter's noise, but well above the subnormal range of f32 at ~1.2e-38).
pub const FLUSH_BELOW: f32 = 1e-30;

/// Larger magnitudes are clipped to this (+120 dBFS). Every gain of the chain together (input
/// trim +24 dB; shelves, bells and tilt stacked at one frequency +66 dB; band makeup +24 dB;
/// width +6 dB; drive and learned gain +48 dB) raises a sample by at most about 170 dB, so
/// from here the largest value any stage sees stays under 1e15, whose square (RMS detection,
/// loudness sums) still fits an f32 with eight orders of magnitude to spare. No audio comes
/// near it: float mixes peak within a few dB of full scale, and +40 dB "overs" are already a
/// host's gain error.
pub const CLIP_ABOVE: f32 = 1e6;

/// Replaces NaN and ±Inf with 0, flushes tiny values to 0 and clips absurdly large ones to
/// ±[`CLIP_ABOVE`], in place. Returns how many samples were non-finite, so a meter can
/// report it.
#[inline]
pub fn sanitize(samples: &mut [f32]) -> usize {
    let mut bad = 0;
    for s in samples.iter_mut() {
        if !s.is_finite() {
            *s = 0.0;
            bad += 1;
        } else if s.abs() < FLUSH_BELOW {
            *s = 0.0;
        } else if s.abs() > CLIP_ABOVE {
            *s = CLIP_ABOVE.copysign(*s);
        }
    }
    bad
}

/// Flushes every sample below [`FLUSH_BELOW`] to 0, in place.
#[inline]
pub fn flush_slice(samples: &mut [f32]) {
    for s in samples.iter_mut() {
        *s = flush(*s);
    }
}

/// Flushes a state variable that decays toward zero before it turns subnormal.
#[inline]
pub fn flush(x: f32) -> f32 {
    if x.abs() < FLUSH_BELOW {
        0.0
    } else {
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nan_inf_and_subnormals_become_zero_and_huge_values_are_clipped() {
        let mut x = [
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            1e-40,
            -1e-35,
            0.5,
            -1.0,
            f32::MAX,
            -1e7,
        ];
        assert_eq!(sanitize(&mut x), 3);
        assert_eq!(x, [0.0, 0.0, 0.0, 0.0, 0.0, 0.5, -1.0, 1e6, -1e6]);
    }
}
