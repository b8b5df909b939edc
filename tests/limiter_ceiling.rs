//! The true-peak limiter's ceiling, per issue 3 item 4: whatever goes in, the output's true
//! peak measured by the ebur128 crate (BS.1770-4 Annex 2, 4x below 96 kHz) never exceeds the
//! ceiling, and a 16x oversampled check with a long windowed sinc never exceeds it by more
//! than 0.1 dB. Signals: EBU Tech 3341 true-peak cases 15–23 pushed 12 dB into the limiter,
//! full-scale square and sawtooth waves, sine sweeps up to 20 kHz, random +40 dB transients,
//! and property tests with random signals and random limiter settings.
//!
//! Every signal runs through the whole chain at its default settings apart from the
//! limiter's, followed by enough silence to flush the look-ahead. Run with `--nocapture` to
//! see the figures.

mod common;
#[path = "common/tech3341.rs"]
mod tech3341;

use common::{ebur128_true_peak_dbtp, music_like, Rng};
use lathe::dsp::settings::{LimiterSettings, LimiterStyle};
use lathe::dsp::{Chain, ChainSettings, Meters};
use proptest::prelude::*;
use tech3341::{bessel_i0, tp_burst, tp_sine, SINE_TP_CASES};

/// The 16x check may read this much over the ceiling (issue 3 item 4).
const CHECK_TOLERANCE_DB: f64 = 0.1;

/// A reference true-peak meter: 16x oversampling with a Kaiser-windowed sinc (β = 8) over
/// ±64 samples, in f64. Its passband is flat within 0.001 dB to 0.96 of Nyquist, so it reads
/// the band-limited waveform itself, not another short interpolator's approximation.
struct Reference16x {
    /// Per phase k = 1..15, the 128 coefficients for samples n - 63 ..= n + 64.
    phases: Vec<[f64; 128]>,
    /// The largest sum of absolute coefficients of any phase: no interpolated point exceeds
    /// it times the window's largest sample.
    l1: f64,
}

impl Reference16x {
    fn new() -> Self {
        let beta = 8.0;
        let phases: Vec<[f64; 128]> = (1..16)
            .map(|k| {
                let frac = k as f64 / 16.0;
                std::array::from_fn(|i| {
                    // Sample n - 63 + i, point n + frac: distance t.
                    let t = frac + 63.0 - i as f64;
                    let r = t / 64.0;
                    let w = if r.abs() >= 1.0 {
                        0.0
                    } else {
                        bessel_i0(beta * (1.0 - r * r).sqrt()) / bessel_i0(beta)
                    };
                    let pt = std::f64::consts::PI * t;
                    w * pt.sin() / pt
                })
            })
            .collect();
        let l1 = phases
            .iter()
            .map(|c| c.iter().map(|v| v.abs()).sum::<f64>())
            .fold(1.0, f64::max);
        Self { phases, l1 }
    }

    /// The largest magnitude of the 16x oversampled `x` where it can reach `level` (the rest
    /// provably stays under `level`, so the reading is exact whenever it is at or above it).
    fn peak(&self, x: &[f32], level: f64) -> f64 {
        let n = x.len();
        // Block maxima over 64 samples bound any window of 128.
        let blocks: Vec<f64> = x
            .chunks(64)
            .map(|c| c.iter().fold(0.0f64, |m, &v| m.max(f64::from(v).abs())))
            .collect();
        let mut peak = x.iter().fold(0.0f64, |m, &v| m.max(f64::from(v).abs()));
        for i in 0..n.saturating_sub(1) {
            let lo = i.saturating_sub(63) / 64;
            let hi = ((i + 64).min(n - 1)) / 64;
            let bound = blocks[lo..=hi].iter().fold(0.0f64, |a, &b| a.max(b)) * self.l1;
            if bound < level {
                continue;
            }
            for c in &self.phases {
                let mut y = 0.0;
                for (k, &ck) in c.iter().enumerate() {
                    if let Some(&v) = (i + k).checked_sub(63).and_then(|j| x.get(j)) {
                        y += ck * f64::from(v);
                    }
                }
                peak = peak.max(y.abs());
            }
        }
        peak
    }
}

fn db(x: f64) -> f64 {
    20.0 * x.log10()
}

/// Runs `input` (stereo) through a fresh chain with `limiter` settings and 0.2 s of silence
/// after it, in blocks of `block` frames; returns the output and the meters.
fn limit(
    input: &[Vec<f32>],
    rate: f32,
    limiter: LimiterSettings,
    block: usize,
) -> (Vec<Vec<f32>>, Meters) {
    let settings = ChainSettings {
        limiter,
        ..ChainSettings::default()
    };
    let mut chain = Chain::new();
    chain.prepare(rate, block);
    let tail = (rate * 0.2) as usize;
    let mut out: Vec<Vec<f32>> = input
        .iter()
        .map(|c| {
            let mut c = c.clone();
            c.resize(c.len() + tail, 0.0);
            c
        })
        .collect();
    let mut meters = Meters::default();
    let frames = out[0].len();
    let mut start = 0;
    while start < frames {
        let end = (start + block).min(frames);
        let mut chunk: Vec<&mut [f32]> = out.iter_mut().map(|c| &mut c[start..end]).collect();
        chain.process(&mut chunk, &settings, &mut meters);
        start = end;
    }
    (out, meters)
}

/// What a run measured, in dB relative to the ceiling.
struct Overs {
    ebur128_db: f64,
    check_16x_db: f64,
    meter_db: f64,
}

/// Limits `input` and measures the output's true peak three ways: the ebur128 crate, the 16x
/// reference and the chain's own output meter.
fn measure(input: &[Vec<f32>], rate: f32, limiter: LimiterSettings, block: usize) -> Overs {
    let (out, meters) = limit(input, rate, limiter, block);
    let ceiling = f64::from(limiter.ceiling_dbtp);
    let reference = Reference16x::new();
    let level = 10f64.powf((ceiling - 0.5) / 20.0);
    let check = out
        .iter()
        .map(|c| reference.peak(c, level))
        .fold(0.0, f64::max);
    Overs {
        ebur128_db: ebur128_true_peak_dbtp(&out, rate as u32) - ceiling,
        check_16x_db: db(check) - ceiling,
        meter_db: f64::from(meters.output_loudness.true_peak_dbtp) - ceiling,
    }
}

/// Asserts the ceiling: ebur128 at or under it, the 16x check at most 0.1 dB over it, and the
/// output meter (the limiter's own detector) never reading over it either.
fn assert_ceiling(what: &str, o: &Overs) {
    println!(
        "{what}: over the ceiling by ebur128 {:+.3} dB, 16x {:+.3} dB, output meter {:+.3} dB",
        o.ebur128_db, o.check_16x_db, o.meter_db
    );
    assert!(
        o.ebur128_db <= 0.0,
        "{what}: ebur128 {:+.4} dB",
        o.ebur128_db
    );
    assert!(
        o.check_16x_db <= CHECK_TOLERANCE_DB,
        "{what}: 16x check {:+.4} dB",
        o.check_16x_db
    );
    assert!(
        o.meter_db <= 0.0,
        "{what}: output meter {:+.4} dB",
        o.meter_db
    );
}

fn stereo(x: Vec<f32>) -> Vec<Vec<f32>> {
    vec![x.clone(), x]
}

fn pushed(drive_db: f32) -> LimiterSettings {
    LimiterSettings {
        drive_db,
        ..LimiterSettings::default()
    }
}

const RATES: [f32; 3] = [44_100.0, 48_000.0, 96_000.0];

#[test]
fn the_16x_reference_reads_inter_sample_peaks() {
    // Tech 3341 case 16: a sine at fs/4 sampled at ±45°, 3 dB over its samples.
    let x = tp_sine(48_000.0, 4.0, 0.5, 45.0, 0.2);
    let peak = Reference16x::new().peak(&x, 0.0);
    assert!((db(peak) - db(0.5)).abs() < 0.001, "{}", db(peak));
    // A 20 kHz sine at 44.1 kHz (faded in and out: a cut-off sine overshoots at its edges).
    let mut x: Vec<f64> = (0..8820)
        .map(|n| 0.5 * (2.0 * std::f64::consts::PI * 20_000.0 * n as f64 / 44_100.0 + 0.3).sin())
        .collect();
    tech3341::taper(&mut x, 441);
    let x: Vec<f32> = x.into_iter().map(|v| v as f32).collect();
    let peak = Reference16x::new().peak(&x, 0.0);
    assert!((db(peak) - db(0.5)).abs() < 0.01, "{}", db(peak));
}

/// Tech 3341 cases 15–23 (synthesised at each rate, as `ebu_loudness.rs` does) driven 12 dB
/// into the limiter at its default -1 dBTP ceiling.
#[test]
fn tech3341_true_peak_cases_pushed_12_db_hold_the_ceiling() {
    for rate in RATES {
        let r = f64::from(rate);
        let mut cases: Vec<(u32, Vec<f32>)> = SINE_TP_CASES
            .iter()
            .map(|&(n, period, amp, phase, _)| (n, tp_sine(r, period, amp, phase, 0.5)))
            .collect();
        for offset in 0..4 {
            cases.push((20 + offset as u32, tp_burst(r, offset, 0.5).0));
        }
        for (n, x) in cases {
            let o = measure(&stereo(x), rate, pushed(12.0), 512);
            assert_ceiling(&format!("3341 #{n} +12 dB at {rate} Hz"), &o);
            // The limiter works up to the ceiling, not far under it.
            assert!(
                o.check_16x_db > -0.5,
                "#{n} at {rate} Hz: {}",
                o.check_16x_db
            );
        }
    }
}

/// Naive (aliased) full-scale square and sawtooth waves, the harshest steady material: every
/// edge is a step the reconstruction overshoots.
#[test]
fn full_scale_squares_and_sawtooths_hold_the_ceiling() {
    for rate in RATES {
        for freq in [55.0f32, 440.0, 3_000.0, 9_000.0] {
            let period = rate / freq;
            let frames = (rate * 0.5) as usize;
            let square: Vec<f32> = (0..frames)
                .map(|n| {
                    if (n as f32 / period).fract() < 0.5 {
                        1.0
                    } else {
                        -1.0
                    }
                })
                .collect();
            let saw: Vec<f32> = (0..frames)
                .map(|n| 2.0 * (n as f32 / period).fract() - 1.0)
                .collect();
            for (name, x) in [("square", square), ("sawtooth", saw)] {
                let o = measure(&stereo(x), rate, pushed(6.0), 512);
                assert_ceiling(&format!("{name} {freq} Hz at {rate} Hz"), &o);
            }
        }
    }
}

/// Exponential sine sweeps from 20 Hz to 20 kHz at full scale, pushed 12 dB, left and right
/// in opposite directions.
#[test]
fn sweeps_up_to_20_khz_hold_the_ceiling() {
    for rate in RATES {
        let secs = 2.0f64;
        let frames = (f64::from(rate) * secs) as usize;
        let (f0, f1) = (20.0f64, 20_000.0f64);
        let k = (f1 / f0).ln();
        let sweep = |t: f64| {
            (2.0 * std::f64::consts::PI * f0 * secs / k * ((t * k / secs).exp() - 1.0)).sin()
        };
        let up: Vec<f32> = (0..frames)
            .map(|n| sweep(n as f64 / f64::from(rate)) as f32)
            .collect();
        let down: Vec<f32> = up.iter().rev().copied().collect();
        let o = measure(&[up, down], rate, pushed(12.0), 512);
        assert_ceiling(&format!("sweep to 20 kHz at {rate} Hz"), &o);
    }
}

/// Music with random single-sample transients 40 dB over full scale.
#[test]
fn random_40_db_transients_hold_the_ceiling() {
    for rate in RATES {
        let frames = (rate * 1.0) as usize;
        let mut x = music_like(frames, rate, 0.9, 5);
        let mut rng = Rng::new(1234);
        for _ in 0..100 {
            let i = rng.below(frames);
            let c = rng.below(2);
            x[c][i] = 100.0 * rng.bipolar().signum();
        }
        for lookahead_ms in [0.5, 2.0, 10.0] {
            let settings = LimiterSettings {
                lookahead_ms,
                ..pushed(6.0)
            };
            let o = measure(&x, rate, settings, 333);
            assert_ceiling(
                &format!("+40 dB transients at {rate} Hz, {lookahead_ms} ms look-ahead"),
                &o,
            );
        }
    }
}

/// A random test signal: a mix of sines (up to 0.45 fs), noise, clicks up to +40 dB and
/// silences, at a random level.
fn random_signal(seed: u64, frames: usize, rate: f32) -> Vec<Vec<f32>> {
    let mut rng = Rng::new(seed);
    let level = 10f32.powf((rng.bipolar() * 12.0 - 6.0) / 20.0);
    let tones: Vec<(f32, f32, f32)> = (0..1 + rng.below(4))
        .map(|_| {
            let freq = 20.0 + (rng.bipolar() * 0.5 + 0.5) * 0.45 * rate;
            (freq, rng.bipolar() * 3.0, rng.bipolar().abs())
        })
        .collect();
    let noise = rng.bipolar().abs() * 0.5;
    let mut x = vec![vec![0.0f32; frames]; 2];
    for (c, ch) in x.iter_mut().enumerate() {
        for (n, s) in ch.iter_mut().enumerate() {
            let t = n as f32 / rate;
            let mut v: f32 = tones
                .iter()
                .map(|&(f, p, a)| a * (2.0 * std::f32::consts::PI * f * t + p + c as f32).sin())
                .sum();
            v += noise * rng.bipolar();
            *s = v * level;
        }
        for _ in 0..rng.below(20) {
            let i = rng.below(frames);
            ch[i] = 100.0 * rng.bipolar();
        }
        if rng.below(2) == 0 {
            let start = rng.below(frames);
            let end = (start + rng.below(frames / 4)).min(frames);
            ch[start..end].fill(0.0);
        }
    }
    x
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// Random signals through random limiter settings (every control over its whole range,
    /// every style) at a random rate and block size.
    #[test]
    fn random_signals_and_settings_hold_the_ceiling(
        seed in 1u64..u64::MAX,
        rate in prop::sample::select(vec![44_100.0f32, 48_000.0, 96_000.0]),
        drive_db in 0.0f32..24.0,
        ceiling_dbtp in -6.0f32..0.0,
        lookahead_ms in 0.5f32..10.0,
        release_ms in 1.0f32..1000.0,
        auto_release in any::<bool>(),
        style in prop::sample::select(LimiterStyle::ALL.to_vec()),
        block in 1usize..2048,
    ) {
        let settings = LimiterSettings {
            style,
            drive_db,
            ceiling_dbtp,
            lookahead_ms,
            release_ms,
            auto_release,
        };
        let x = random_signal(seed, (rate * 0.3) as usize, rate);
        let o = measure(&x, rate, settings, block);
        prop_assert!(o.ebur128_db <= 0.0, "ebur128 {:+.4} dB", o.ebur128_db);
        prop_assert!(o.check_16x_db <= CHECK_TOLERANCE_DB, "16x {:+.4} dB", o.check_16x_db);
        prop_assert!(o.meter_db <= 0.0, "output meter {:+.4} dB", o.meter_db);
    }
}
