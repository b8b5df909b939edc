//! The per-sample work: cascades of direct form I biquads in `f64`, both channels of a frame
//! side by side so the compiler can put them in one SIMD register.
//!
//! Why direct form I, not the transposed direct form II: both cost five multiplies and four
//! adds per sample, but TDF2 keeps internal state that only makes sense for the coefficients
//! that produced it. When a glide changes the coefficients, TDF2's output jumps by about
//! `Δb0·x` (a +12 dB high shelf has `b0 ≈ 4`): measured, a -12 dB to +12 dB high-shelf sweep
//! under a 1 kHz sine stepped 14-37 % beyond the sine's own steepest step. DF1's state is the
//! signal itself (last two inputs and outputs), so a coefficient change moves the output only
//! by the change in the response: the same sweeps stay within 0.1 %. In a cascade, a section's
//! input history is its predecessor's output history, so DF1 needs no more state than TDF2.
//!
//! Why `f64`: poles close to z = 1 (a 20 Hz, Q 10 bell at 192 kHz has `1 - |p| ≈ 3e-5`) need
//! coefficients whose sums (`b0 + b1 + b2`, the DC gain times `1 + a1 + a2`) fall far below
//! `f32`'s rounding step, and rounding noise in direct forms grows with the poles' gain. In
//! `f64` both are far below the 24-bit floor, and on x86-64 a pair of `f64` takes the same
//! instructions as a pair of `f32` (one 128-bit register), so stereo `f64` costs nothing extra.

use super::design::Biquad;
use crate::dsp::sanitize::FLUSH_BELOW;

/// Sections one pass runs per frame. Several sections in one loop let the CPU overlap their
/// recursions (each a multiply-add chain per sample); too many spill coefficients and
/// history out of the 16 SIMD registers. Measured (all 8 sections, 48 kHz stereo, x86-64
/// baseline): 3 per pass 10.4 ns/frame, 2 per pass 10.6, 4 per pass 11.2, all 8 in one 21.
pub const PASS_SECTIONS: usize = 3;

/// History is flushed every this many samples, counted from reset, so where it happens does
/// not depend on the block split. See [`flush`].
pub const FLUSH_EVERY: usize = super::bands::TICK;

/// Direct form I history of one section: `[x1, x2, y1, y2]` (its last two inputs and
/// outputs), one lane per channel (in mono, lane 1 shadows lane 0 and is never output).
pub type State = [[f64; 2]; 4];

/// Sets history words that have decayed below the sanitiser's floor (about -600 dBFS) to 0, so
/// they never reach the subnormal range, where x86 arithmetic is up to ~100x slower. From the
/// floor, `f64` would need to decay by ~1e-278 to get there, which no section here does within
/// [`FLUSH_EVERY`] samples (the fastest pole, an over-damped Q 0.1, loses ~1e-12 per sample).
#[inline(always)]
fn flush(h: &mut [[f64; 2]; 2]) {
    for word in h.iter_mut() {
        for v in word.iter_mut() {
            if v.abs() < FLUSH_BELOW as f64 {
                *v = 0.0;
            }
        }
    }
}

/// One frame through `K` sections in direct form I. All sections read the junction
/// histories of the previous frame, then all shift.
#[inline(always)]
fn frame<const K: usize>(
    c: &[Biquad; K],
    hi: &mut [[f64; 2]; 2],
    ho: &mut [[[f64; 2]; 2]; K],
    x0: [f64; 2],
) -> [f64; 2] {
    let mut y = [[0.0; 2]; K];
    let mut x = x0;
    for k in 0..K {
        let (x1, x2) = if k == 0 {
            (hi[0], hi[1])
        } else {
            (ho[k - 1][0], ho[k - 1][1])
        };
        for ch in 0..2 {
            // y1 enters last: the recursion through it is one multiply and one subtraction
            // deep; everything else is ready earlier.
            let ready =
                c[k].b0 * x[ch] + c[k].b1 * x1[ch] + c[k].b2 * x2[ch] - c[k].a2 * ho[k][1][ch];
            y[k][ch] = ready - c[k].a1 * ho[k][0][ch];
        }
        x = y[k];
    }
    *hi = [x0, hi[0]];
    for k in 0..K {
        ho[k] = [y[k], ho[k][0]];
    }
    x
}

/// The samples a pass works on: one or two channels, the same length.
pub enum Io<'a> {
    Mono(&'a mut [f32]),
    Stereo(&'a mut [f32], &'a mut [f32]),
}

impl Io<'_> {
    fn frames(&self) -> usize {
        match self {
            Io::Mono(m) => m.len(),
            Io::Stereo(l, r) => l.len().min(r.len()),
        }
    }
}

/// Runs `K` sections in series over `io`, in place. Both lanes always run: mono fills the
/// second lane with a copy of the first, because a pair of `f64` costs the same as one and
/// the paired loop is the one the compiler vectorises best.
///
/// In a cascade, a section's input history is the previous section's output history, so a
/// pass keeps one two-sample history per junction: `hin` before the first section, `hout[k]`
/// after section `k`.
///
/// `phase` is the running sample counter modulo [`FLUSH_EVERY`] at the first frame; the
/// histories are flushed before each frame where it wraps to 0.
#[inline(always)]
fn pass<const K: usize>(
    c: &[Biquad; K],
    hin: &mut [[f64; 2]; 2],
    hout: &mut [[[f64; 2]; 2]; K],
    io: &mut Io,
    phase: usize,
) {
    let c = *c;
    let (mut hi, mut ho) = (*hin, *hout);
    let frames = io.frames();
    let mut start = 0;
    let mut phase = phase % FLUSH_EVERY;
    while start < frames {
        if phase == 0 {
            flush(&mut hi);
            for h in ho.iter_mut() {
                flush(h);
            }
        }
        let end = start + (FLUSH_EVERY - phase).min(frames - start);
        match io {
            Io::Mono(m) => {
                for v in m[start..end].iter_mut() {
                    let x = f64::from(*v);
                    *v = frame(&c, &mut hi, &mut ho, [x, x])[0] as f32;
                }
            }
            Io::Stereo(l, r) => {
                for (a, b) in l[start..end].iter_mut().zip(r[start..end].iter_mut()) {
                    let y = frame(&c, &mut hi, &mut ho, [f64::from(*a), f64::from(*b)]);
                    *a = y[0] as f32;
                    *b = y[1] as f32;
                }
            }
        }
        phase = (phase + end - start) % FLUSH_EVERY;
        start = end;
    }
    *hin = hi;
    *hout = ho;
}

/// Gathers up to [`PASS_SECTIONS`] sections by index and runs them as one pass.
#[inline(always)]
fn gather_pass<const K: usize>(
    coeffs: &[Biquad],
    states: &mut [State],
    idx: &[usize],
    io: &mut Io,
    phase: usize,
) {
    let c: [Biquad; K] = std::array::from_fn(|k| coeffs[idx[k]]);
    let first = &states[idx[0]];
    let mut hin = [first[0], first[1]];
    let mut hout: [[[f64; 2]; 2]; K] = std::array::from_fn(|k| {
        let st = &states[idx[k]];
        [st[2], st[3]]
    });
    pass(&c, &mut hin, &mut hout, io, phase);
    for k in 0..K {
        let input = if k == 0 { hin } else { hout[k - 1] };
        states[idx[k]] = [input[0], input[1], hout[k][0], hout[k][1]];
    }
}

/// Runs the sections listed in `active` (in that order) over `io`, [`PASS_SECTIONS`] at a
/// time. Between passes the signal is rounded to `f32` (about -150 dB, like the output's own
/// rounding); each section's history is kept in `f64`.
pub fn run(coeffs: &[Biquad], states: &mut [State], active: &[usize], io: &mut Io, phase: usize) {
    for chunk in active.chunks(PASS_SECTIONS) {
        match chunk.len() {
            1 => gather_pass::<1>(coeffs, states, chunk, io, phase),
            2 => gather_pass::<2>(coeffs, states, chunk, io, phase),
            3 => gather_pass::<3>(coeffs, states, chunk, io, phase),
            _ => gather_pass::<4>(coeffs, states, chunk, io, phase),
        }
    }
}
