//! How the limiter sounds where limiters differ: distortion on steady tones it has to hold
//! down. THD+N is measured in steady state as the residual after removing the best-fitting
//! sinusoid at the test frequency (least squares), relative to the whole output.

mod common;
#[path = "common/spectrum.rs"]
mod spectrum;

use common::run_chain;
use lathe::dsp::ChainSettings;

/// THD+N in dB of `x` around a sine at `freq` Hz.
fn thd_n_db(x: &[f32], freq: f64, rate: f64) -> f64 {
    // Least-squares fit of a·sin + b·cos + c (the normal equations of three regressors).
    let w = 2.0 * std::f64::consts::PI * freq / rate;
    let mut m = [[0.0f64; 3]; 3];
    let mut v = [0.0f64; 3];
    for (n, &s) in x.iter().enumerate() {
        let r = [(w * n as f64).sin(), (w * n as f64).cos(), 1.0];
        for (i, row) in m.iter_mut().enumerate() {
            for (j, cell) in row.iter_mut().enumerate() {
                *cell += r[i] * r[j];
            }
            v[i] += r[i] * s as f64;
        }
    }
    let coef = solve3(m, v);
    let (mut res, mut tot) = (0.0, 0.0);
    for (n, &s) in x.iter().enumerate() {
        let fit = coef[0] * (w * n as f64).sin() + coef[1] * (w * n as f64).cos() + coef[2];
        res += (s as f64 - fit).powi(2);
        tot += (s as f64).powi(2);
    }
    10.0 * (res / tot).log10()
}

fn solve3(mut m: [[f64; 3]; 3], mut v: [f64; 3]) -> [f64; 3] {
    for i in 0..3 {
        let p = m[i][i];
        for cell in m[i].iter_mut() {
            *cell /= p;
        }
        v[i] /= p;
        let pivot = m[i];
        for k in 0..3 {
            if k != i {
                let f = m[k][i];
                for (cell, p) in m[k].iter_mut().zip(pivot) {
                    *cell -= f * p;
                }
                v[k] -= f * v[i];
            }
        }
    }
    v
}

/// A sine at -6 dBFS driven 6 dB into the limiter at its default settings (automatic release,
/// -1 dBTP ceiling): about 1 dB of steady gain reduction. Returns THD+N of the last 4 s.
fn limited_sine_thd_n(freq: f32) -> (f64, f64) {
    let rate = 48_000.0;
    let frames = rate as usize * 10;
    let amp = 10f64.powf(-6.0 / 20.0);
    // In f64: an f32 phase of 6e4 rad (10 s of 1 kHz) is only good to ~4e-3 rad, which is
    // -50 dB of phase noise in the test signal itself.
    let x: Vec<f32> = (0..frames)
        .map(|n| {
            ((2.0 * std::f64::consts::PI * freq as f64 * n as f64 / rate as f64).sin() * amp) as f32
        })
        .collect();
    let mut s = ChainSettings::default();
    s.limiter.drive_db = 6.0;
    let out = run_chain(&[x.clone(), x], rate, &s);
    let tail = &out[0][frames - 4 * rate as usize..];
    let peak = tail.iter().fold(0.0f32, |a, &b| a.max(b.abs()));
    (
        thd_n_db(tail, freq as f64, rate as f64),
        20.0 * peak.log10() as f64,
    )
}

#[test]
fn the_measurement_sees_a_known_distortion() {
    // 1 % of third harmonic is -40 dB.
    let rate = 48_000.0;
    let x: Vec<f32> = (0..96_000)
        .map(|n| {
            let p = 2.0 * std::f32::consts::PI * 50.0 * n as f32 / rate;
            p.sin() + 0.01 * (3.0 * p).sin()
        })
        .collect();
    let d = thd_n_db(&x, 50.0, rate as f64);
    assert!((d + 40.0).abs() < 0.05, "{d}");
}

#[test]
fn a_limited_50_hz_sine_stays_clean_with_automatic_release() {
    let (thd, peak) = limited_sine_thd_n(50.0);
    println!("50 Hz: THD+N {thd:.1} dB, peak {peak:.2} dBFS");
    assert!(
        peak < -1.0 && peak > -1.5,
        "the limiter is working: {peak:.2}"
    );
    assert!(thd <= -60.0, "50 Hz THD+N {thd:.1} dB");
}

#[test]
fn a_limited_1_khz_sine_stays_clean_with_automatic_release() {
    let (thd, peak) = limited_sine_thd_n(1000.0);
    println!("1 kHz: THD+N {thd:.1} dB, peak {peak:.2} dBFS");
    assert!(
        peak < -1.0 && peak > -1.5,
        "the limiter is working: {peak:.2}"
    );
    assert!(thd <= -90.0, "1 kHz THD+N {thd:.1} dB");
}

/// SMPTE intermodulation (SMPTE RP 120; the same two tones as DIN 45403): 60 Hz and 7 kHz at
/// 4:1, the sum peaking at -6 dBFS, driven 6 dB into the limiter with default settings. The
/// distortion is what the low tone's modulation puts around the high one: the energy of the
/// sidebands at 7 kHz ± n·60 Hz (n = 1..10) relative to the 7 kHz tone, from one windowed
/// spectrum of the last 4 s (0.25 Hz bins; the Blackman-Harris main lobe is ±7 bins, well
/// inside the 240 bins between sidebands). Returns it in dB, and the output's peak.
fn smpte_imd_db() -> (f64, f64) {
    let rate = 48_000.0f64;
    let frames = rate as usize * 10;
    let amp = 10f64.powf(-6.0 / 20.0) / 1.25;
    let tau = 2.0 * std::f64::consts::PI;
    let x: Vec<f32> = (0..frames)
        .map(|n| {
            let t = n as f64 / rate;
            (amp * (tau * 60.0 * t).sin() + 0.25 * amp * (tau * 7000.0 * t).sin()) as f32
        })
        .collect();
    let mut s = ChainSettings::default();
    s.limiter.drive_db = 6.0;
    let out = run_chain(&[x.clone(), x], rate as f32, &s);
    let tail = &out[0][frames - 4 * rate as usize..];
    let peak = tail.iter().fold(0.0f32, |a, &b| a.max(b.abs()));
    let spectrum = spectrum::amplitude_spectrum(tail);
    let bin_hz = rate / tail.len() as f64;
    let power_near = |hz: f64| -> f64 {
        let centre = (hz / bin_hz).round() as usize;
        let reach = spectrum::MAIN_LOBE_BINS + 2;
        spectrum[centre - reach..=centre + reach]
            .iter()
            .map(|a| a * a)
            .sum()
    };
    let carrier = power_near(7000.0);
    let sidebands: f64 = (1..=10)
        .flat_map(|k| [7000.0 - 60.0 * k as f64, 7000.0 + 60.0 * k as f64])
        .map(power_near)
        .sum();
    (
        10.0 * (sidebands / carrier).log10(),
        20.0 * (peak as f64).log10(),
    )
}

#[test]
fn smpte_intermodulation_stays_low_with_default_settings() {
    let (imd, peak) = smpte_imd_db();
    println!("SMPTE IMD (60 Hz + 7 kHz, 4:1): {imd:.1} dB, peak {peak:.2} dBFS");
    assert!(
        peak < -1.0 && peak > -1.5,
        "the limiter is working: {peak:.2}"
    );
    // Measured -80.0 dB. Only the limiter works here: a steady signal's peaks stay under the
    // default style's clip threshold (its RMS plus 6.5 dB). The bound leaves 6 dB for other
    // platforms' float rounding and catches a limiter whose gain starts to ride the bass.
    assert!(imd <= -74.0, "SMPTE IMD {imd:.1} dB");
}
