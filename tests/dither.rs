//! Word-length reduction: TPDF dither is reproducible, leaves no harmonic distortion on a tone
//! below one LSB, keeps that tone, and noise shaping shapes the noise as its filter says.
#![cfg(feature = "render")]

#[path = "common/spectrum.rs"]
mod spectrum;

use lathe::render::dither::{quantise_interleaved, NoiseShaping};
use spectrum::{bin_of, db, sine, tone, welch_power, MAIN_LOBE_BINS};

const FFT: usize = 65_536;
/// 16 Welch segments' worth of signal (about 12 s at 44.1 kHz).
const FRAMES: usize = FFT * 8;

/// Quantises mono `x` to `bits` and back to float.
fn reduce(x: &[f32], bits: u32, shaping: NoiseShaping, seed: u64) -> Vec<f32> {
    let scale = (1u64 << (bits - 1)) as f32;
    quantise_interleaved(&[x.to_vec()], bits, shaping, seed)
        .into_iter()
        .map(|q| q as f32 / scale)
        .collect()
}

/// Power in the main lobe around `freq` (2·7+1 bins).
fn band_power(power: &[f64], freq: f64, rate: f64) -> f64 {
    let b = bin_of(freq, FFT, rate);
    power[b - MAIN_LOBE_BINS..=b + MAIN_LOBE_BINS].iter().sum()
}

/// The noise floor near `freq`: mean and standard deviation of the power in 12 bands of the
/// same width on either side (one lobe width apart, so none overlaps the component at `freq`).
fn local_floor(power: &[f64], freq: f64, rate: f64) -> (f64, f64) {
    let width = 2 * MAIN_LOBE_BINS + 1;
    let b = bin_of(freq, FFT, rate);
    let bands: Vec<f64> = (2..=7)
        .flat_map(|k| [b - k * width, b + k * width])
        .map(|c| power[c - MAIN_LOBE_BINS..=c + MAIN_LOBE_BINS].iter().sum())
        .collect();
    let mean = bands.iter().sum::<f64>() / bands.len() as f64;
    let var = bands.iter().map(|p| (p - mean).powi(2)).sum::<f64>() / (bands.len() - 1) as f64;
    (mean, var.sqrt())
}

/// For harmonics 2..=10 of `f0`: how far each one's band power is above its local floor, in
/// units of the floor's standard deviation. Noise alone stays within a few.
fn harmonic_excess(y: &[f32], f0: f64, rate: f64) -> Vec<(u32, f64)> {
    let power = welch_power(y, FFT);
    (2..=10)
        .map(|h| {
            let f = f0 * h as f64;
            let (mean, sd) = local_floor(&power, f, rate);
            (h, (band_power(&power, f, rate) - mean) / sd)
        })
        .collect()
}

/// Statistical spread allowed for a harmonic band over its local floor: 5 standard deviations
/// (9 harmonics × 4 cases; Gaussian odds of a false alarm are below 1 in 10⁴, and the dither is
/// seeded, so the outcome is fixed anyway).
const SPREAD_SD: f64 = 5.0;

#[test]
fn a_minus_100_dbfs_tone_at_16_bits_has_no_harmonic_spurs_and_survives() {
    let amp = 10f64.powf(-100.0 / 20.0);
    for rate in [44_100.0, 48_000.0] {
        for shaping in [NoiseShaping::None, NoiseShaping::FWeighted] {
            let x = sine(1_000.0, amp, rate, FRAMES);
            let y = reduce(&x, 16, shaping, 0x5EED);
            let excess = harmonic_excess(&y, 1_000.0, rate);
            let worst = excess.iter().map(|e| e.1).fold(f64::MIN, f64::max);
            let (a, _) = tone(&y, 0, 1_000.0, rate);
            let power = welch_power(&y, FFT);
            let (floor, _) = local_floor(&power, 1_000.0, rate);
            let tone_over_floor = 10.0 * (band_power(&power, 1_000.0, rate) / floor).log10();
            eprintln!(
                "{rate} Hz, {shaping:?}: tone {:+.3} dB, {tone_over_floor:.1} dB over the local \
                 floor; harmonics 2-10 at most {worst:+.2} sd over theirs",
                db(a / amp)
            );
            for (h, e) in &excess {
                assert!(
                    *e < SPREAD_SD,
                    "{rate} {shaping:?}: harmonic {h} at {e:.1} sd"
                );
            }
            assert!(
                db(a / amp).abs() < 0.2,
                "{rate} {shaping:?}: tone {}",
                db(a / amp)
            );
            assert!(tone_over_floor > 20.0, "{tone_over_floor}");
        }
    }
}

/// The detector above works: plain rounding (no dither) of a tone of 0.6 LSB turns it into a
/// three-level square-ish wave, whose odd harmonics stand far above the floor.
#[test]
fn without_dither_the_same_measurement_finds_the_harmonics() {
    let rate = 44_100.0;
    let lsb = 1.0 / 32_768.0;
    let x = sine(1_000.0, 0.6 * lsb, rate, FRAMES);
    // A tiny independent noise gives the spectrum a floor to measure against.
    let mut state = 1u64;
    let y: Vec<f32> = x
        .iter()
        .map(|&s| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            let noise = ((state >> 40) as f64 / (1u64 << 24) as f64 - 0.5) * 1e-3 * lsb;
            ((s as f64 / lsb).round() * lsb + noise) as f32
        })
        .collect();
    let excess = harmonic_excess(&y, 1_000.0, rate);
    let third = excess.iter().find(|e| e.0 == 3).unwrap().1;
    assert!(third > 100.0 * SPREAD_SD, "{excess:?}");
}

#[test]
fn same_seed_same_output_other_seed_other_output() {
    let x = sine(997.0, 0.3, 48_000.0, 48_000);
    let stereo = vec![x.clone(), x];
    for shaping in [NoiseShaping::None, NoiseShaping::FWeighted] {
        for bits in [16, 24] {
            let a = quantise_interleaved(&stereo, bits, shaping, 42);
            let b = quantise_interleaved(&stereo, bits, shaping, 42);
            let c = quantise_interleaved(&stereo, bits, shaping, 43);
            assert_eq!(a, b);
            assert_ne!(a, c);
            // Each channel has its own noise: identical inputs, different words.
            let left: Vec<i32> = a.iter().step_by(2).copied().collect();
            let right: Vec<i32> = a.iter().skip(1).step_by(2).copied().collect();
            assert_ne!(left, right);
        }
    }
}

/// |1 − Σ h_k e^{-jωk}|², the noise transfer function of error feedback, in dB.
fn ntf_db(freq: f64, rate: f64) -> f64 {
    let w = 2.0 * std::f64::consts::PI * freq / rate;
    let (mut re, mut im) = (1.0, 0.0);
    for (k, h) in NoiseShaping::FWeighted.coefficients().iter().enumerate() {
        let phase = w * (k + 1) as f64;
        re -= h * phase.cos();
        im += h * phase.sin();
    }
    10.0 * (re * re + im * im).log10()
}

#[test]
fn noise_shaping_follows_its_filter_and_moves_noise_out_of_the_midrange() {
    let rate = 44_100.0;
    // A quiet tone keeps the quantiser busy; it is left out of the bands compared.
    let x = sine(100.0, 1e-5, rate, FRAMES);
    let flat = welch_power(&reduce(&x, 16, NoiseShaping::None, 1), FFT);
    let shaped = welch_power(&reduce(&x, 16, NoiseShaping::FWeighted, 1), FFT);
    let band = |p: &[f64], f: f64| -> f64 {
        let b = bin_of(f, FFT, rate);
        p[b - 200..=b + 200].iter().sum()
    };
    for f in [
        1_000.0, 3_000.0, 4_000.0, 8_000.0, 12_000.0, 16_000.0, 19_000.0,
    ] {
        let measured = 10.0 * (band(&shaped, f) / band(&flat, f)).log10();
        let theory = ntf_db(f, rate);
        eprintln!("{f} Hz: shaped/flat {measured:+.2} dB, filter {theory:+.2} dB");
        assert!(
            (measured - theory).abs() < 0.5,
            "{f} Hz: {measured} vs {theory}"
        );
    }
    // The point of it: less noise where hearing is most sensitive (2-5 kHz)...
    let mid = |p: &[f64]| -> f64 {
        let (a, b) = (bin_of(2_000.0, FFT, rate), bin_of(5_000.0, FFT, rate));
        p[a..b].iter().sum()
    };
    let gain = 10.0 * (mid(&shaped) / mid(&flat)).log10();
    eprintln!("2-5 kHz noise: {gain:+.1} dB with F-weighted shaping");
    // (The filter's response says -22 dB; -15 leaves room for the estimate's spread.)
    assert!(gain < -15.0, "{gain}");
}

#[test]
fn a_tone_below_one_lsb_survives_24_bits() {
    let rate = 48_000.0;
    let amp = 10f64.powf(-140.0 / 20.0); // 0.84 LSB at 24 bits
    let x = sine(1_000.0, amp, rate, FRAMES);
    let y = reduce(&x, 24, NoiseShaping::None, 9);
    let (a, _) = tone(&y, 0, 1_000.0, rate);
    assert!(db(a / amp).abs() < 0.2, "{}", db(a / amp));
    let excess = harmonic_excess(&y, 1_000.0, rate);
    assert!(excess.iter().all(|e| e.1 < SPREAD_SD), "{excess:?}");
}
