//! Spectral measurements for the resampler, dither and codec tests (realfft).
//!
//! The window is the 7-term Blackman-Harris (Albrecht, "A family of cosine-sum windows for
//! high-resolution measurements", ICASSP 2001; the coefficients National Instruments
//! publishes): sidelobes below -180 dB, so a -100 dB alias or a -137 dB-per-bin dither floor is
//! not hidden under the leakage of a full-scale tone. Its main lobe is ±7 bins wide.
//!
//! Included by the integration tests with `#[path = "common/spectrum.rs"] mod spectrum;`.
#![allow(dead_code)]

use realfft::RealFftPlanner;

/// Half-width of the window's main lobe, in bins.
pub const MAIN_LOBE_BINS: usize = 7;

const BH7: [f64; 7] = [
    0.271_051_400_693_42,
    -0.433_297_939_234_48,
    0.218_122_999_543_11,
    -0.065_925_446_388_03,
    0.010_811_742_098_37,
    -0.000_776_584_825_22,
    0.000_013_887_217_35,
];

/// The periodic 7-term Blackman-Harris window of `n` points.
pub fn bh7(n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| {
            let t = 2.0 * std::f64::consts::PI * i as f64 / n as f64;
            BH7.iter()
                .enumerate()
                .map(|(k, a)| a * (k as f64 * t).cos())
                .sum()
        })
        .collect()
}

pub fn db(x: f64) -> f64 {
    20.0 * x.max(1e-30).log10()
}

/// The amplitude spectrum of `x` (its whole length, windowed), scaled so a sine of amplitude
/// A centred on a bin reads A. Bin k is at k · rate / x.len().
pub fn amplitude_spectrum(x: &[f32]) -> Vec<f64> {
    let n = x.len();
    let w = bh7(n);
    let gain: f64 = w.iter().sum::<f64>() / 2.0;
    let mut buf: Vec<f64> = x.iter().zip(&w).map(|(&s, w)| s as f64 * w).collect();
    let fft = RealFftPlanner::<f64>::new().plan_fft_forward(n);
    let mut out = fft.make_output_vec();
    fft.process(&mut buf, &mut out).unwrap();
    out.iter().map(|c| c.norm() / gain).collect()
}

/// Power spectrum averaged over `n`-point segments with 50 % overlap (Welch), scaled like
/// [`amplitude_spectrum`] squared: a bin-centred sine of amplitude A reads A².
pub fn welch_power(x: &[f32], n: usize) -> Vec<f64> {
    let w = bh7(n);
    let gain: f64 = w.iter().sum::<f64>() / 2.0;
    let fft = RealFftPlanner::<f64>::new().plan_fft_forward(n);
    let mut out = fft.make_output_vec();
    let mut acc = vec![0.0; n / 2 + 1];
    let mut count = 0;
    let mut start = 0;
    while start + n <= x.len() {
        let mut buf: Vec<f64> = x[start..start + n]
            .iter()
            .zip(&w)
            .map(|(&s, w)| s as f64 * w)
            .collect();
        fft.process(&mut buf, &mut out).unwrap();
        for (a, c) in acc.iter_mut().zip(&out) {
            *a += c.norm_sqr() / (gain * gain);
        }
        count += 1;
        start += n / 2;
    }
    acc.iter_mut().for_each(|a| *a /= count as f64);
    acc
}

/// Amplitude and phase of the component of `x` at `freq` Hz, where sample i of `x` is at time
/// (offset + i) / rate: x ≈ A sin(2π f t + φ). A windowed projection, so other components
/// more than a few bins away do not disturb it.
pub fn tone(x: &[f32], offset: usize, freq: f64, rate: f64) -> (f64, f64) {
    let w = bh7(x.len());
    let sum_w: f64 = w.iter().sum();
    let (mut re, mut im) = (0.0, 0.0);
    for (i, (&s, w)) in x.iter().zip(&w).enumerate() {
        let phase = 2.0 * std::f64::consts::PI * freq * ((offset + i) as f64 / rate);
        re += w * s as f64 * phase.sin();
        im += w * s as f64 * phase.cos();
    }
    let (re, im) = (2.0 * re / sum_w, 2.0 * im / sum_w);
    ((re * re + im * im).sqrt(), im.atan2(re))
}

/// A sine of amplitude `amp` at `freq` Hz, `frames` long, at `rate`.
pub fn sine(freq: f64, amp: f64, rate: f64, frames: usize) -> Vec<f32> {
    (0..frames)
        .map(|n| (amp * (2.0 * std::f64::consts::PI * freq * n as f64 / rate).sin()) as f32)
        .collect()
}

/// Frequency of bin `k` of an `n`-point spectrum at `rate`.
pub fn bin_hz(k: usize, n: usize, rate: f64) -> f64 {
    k as f64 * rate / n as f64
}

/// The bin nearest `freq` in an `n`-point spectrum at `rate`.
pub fn bin_of(freq: f64, n: usize, rate: f64) -> usize {
    (freq * n as f64 / rate).round() as usize
}
