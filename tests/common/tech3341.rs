//! EBU Tech 3341 v3 (2016) true-peak test signals, cases 15–23, synthesised from their
//! published definitions (Table 1) at any sample rate: "fs/4 denotes 12 kHz for a sample-rate
//! of 48 kHz, etc." Shared by the meter tests (`ebu_loudness.rs`) and the limiter tests
//! (`limiter_ceiling.rs`). Include with `#[path = "common/tech3341.rs"] mod tech3341;`.
#![allow(dead_code)]

use std::f64::consts::PI;

/// A raised-cosine fade over the first and last `fade` frames.
pub fn taper(signal: &mut [f64], fade: usize) {
    let n = signal.len();
    for k in 0..fade.min(n / 2) {
        let g = 0.5 - 0.5 * (PI * (k as f64 + 0.5) / fade as f64).cos();
        signal[k] *= g;
        signal[n - 1 - k] *= g;
    }
}

/// `amp` · sin(2π n / `period` + `phase_deg`) for `secs`, with 10 ms fades (Tech 3341 case 15:
/// "the tone should be tapered with a 10 ms fade-in and fade-out").
pub fn tp_sine(rate: f64, period: f64, amp: f64, phase_deg: f64, secs: f64) -> Vec<f32> {
    let phase = phase_deg.to_radians();
    let mut x: Vec<f64> = (0..(secs * rate).round() as usize)
        .map(|n| amp * (2.0 * PI * n as f64 / period + phase).sin())
        .collect();
    taper(&mut x, (0.010 * rate).round() as usize);
    x.into_iter().map(|v| v as f32).collect()
}

/// Cases 15–19: (case, period in samples, amplitude in FFS, phase in degrees, expected dBTP).
pub const SINE_TP_CASES: [(u32, f64, f64, f64, f64); 5] = [
    // 15: stereo sine, fs/4, amplitude 0.50 FFS, phase 0.0°: max true peak −6.0 dBTP.
    (15, 4.0, 0.50, 0.0, -6.0),
    // 16: fs/4, 0.50 FFS, 45.0°: −6.0 dBTP (samples at ±0.354, the peaks fall between them).
    (16, 4.0, 0.50, 45.0, -6.0),
    // 17: fs/6, 0.50 FFS, 60.0°: −6.0 dBTP.
    (17, 6.0, 0.50, 60.0, -6.0),
    // 18: fs/8, 0.50 FFS, 67.5°: −6.0 dBTP.
    (18, 8.0, 0.50, 67.5, -6.0),
    // 19: fs/4, 1.41 FFS, 45.0°: +3.0 dBTP (samples at ±0.997, peaks above full scale).
    (19, 4.0, 1.41, 45.0, 3.0),
];

/// I0, the modified Bessel function of the first kind, for the Kaiser window.
pub fn bessel_i0(x: f64) -> f64 {
    let mut sum = 1.0;
    let mut term = 1.0;
    let mut k = 1.0;
    while term > 1e-15 * sum {
        term *= (x / (2.0 * k)).powi(2);
        sum += term;
        k += 1.0;
    }
    sum
}

/// A linear-phase low-pass FIR: a Kaiser-windowed sinc with unity DC gain, `cutoff` in cycles
/// per sample.
pub fn kaiser_lowpass(taps: usize, cutoff: f64, beta: f64) -> Vec<f64> {
    let mid = (taps - 1) as f64 / 2.0;
    let mut h: Vec<f64> = (0..taps)
        .map(|i| {
            let t = i as f64 - mid;
            let sinc = if t == 0.0 {
                2.0 * cutoff
            } else {
                (2.0 * PI * cutoff * t).sin() / (PI * t)
            };
            sinc * bessel_i0(beta * (1.0 - (t / mid).powi(2)).sqrt()) / bessel_i0(beta)
        })
        .collect();
    let dc: f64 = h.iter().sum();
    h.iter_mut().for_each(|v| *v /= dc);
    h
}

/// Tech 3341 cases 20–23 at the output rate `rate`: a sine at fs/6, amplitude 0.50 FFS,
/// holding a single period of a sine at fs/4, amplitude 1.00, phase-continuous on both sides
/// (the fs/6 tone is at a rising zero crossing where the period starts and resumes from one
/// where it ends). Synthesised at 4·fs, tapered with 10 ms fades, low-pass filtered and
/// decimated to fs taking every 4th sample from `offset` (0 to 3). Returns the signal and
/// the largest magnitude of the filtered 4·fs signal, the band-limited true peak.
///
/// The anti-aliasing filter is not specified; this one (255 taps, Kaiser β = 8, cut-off at
/// fs/2) reproduces the EBU's seq-3341-20…23 files to within 2·10⁻⁴ around the period at fs
/// (sample peaks 0.9852, 0.9481, 0.7493, 0.9481 against the files' 0.9851, 0.9480, 0.7493,
/// 0.9480).
pub fn tp_burst(rate: f64, offset: usize, secs: f64) -> (Vec<f32>, f64) {
    let len4 = (secs * rate).round() as usize * 4;
    // The fs/6 tone has a period of 24 samples at 4·fs, the fs/4 period lasts 16.
    let start = (len4 / 2) / 24 * 24;
    let mut x: Vec<f64> = (0..len4)
        .map(|n| {
            if n < start {
                0.5 * (2.0 * PI * n as f64 / 24.0).sin()
            } else if n < start + 16 {
                (2.0 * PI * (n - start) as f64 / 16.0).sin()
            } else {
                0.5 * (2.0 * PI * (n - start - 16) as f64 / 24.0).sin()
            }
        })
        .collect();
    taper(&mut x, (0.010 * rate * 4.0).round() as usize);
    let h = kaiser_lowpass(255, 0.125, 8.0);
    let half = h.len() / 2;
    let filtered = |n: usize| -> f64 {
        h.iter()
            .enumerate()
            .filter_map(|(i, c)| {
                (n + half)
                    .checked_sub(i)
                    .and_then(|k| x.get(k))
                    .map(|v| c * v)
            })
            .sum()
    };
    let true_peak = (start - 64..start + 80)
        .map(|n| filtered(n).abs())
        .fold(0.0, f64::max);
    let signal = (offset..len4)
        .step_by(4)
        .map(|n| filtered(n) as f32)
        .collect();
    (signal, true_peak)
}
