//! The contracts of DESIGN.md, checked on the whole chain: block-size invariance, exact
//! latency, neutral transparency, finite output on hostile input, and the limiter's ceiling.

mod common;

use common::*;
use lathe::dsp::settings::LimiterStyle;
use lathe::dsp::{Chain, ChainSettings, Meters};

#[test]
fn random_block_splits_give_bit_identical_output() {
    for (rate, style) in [
        (44_100.0, LimiterStyle::Loud),
        (96_000.0, LimiterStyle::Loud),
        (48_000.0, LimiterStyle::Balanced),
        (48_000.0, LimiterStyle::Transparent),
        (192_000.0, LimiterStyle::Balanced),
    ] {
        let input = music_like(60_000, rate, 0.9, 7);
        let mut settings = busy_settings();
        settings.limiter.style = style;
        let whole = run_chain(&input, rate, &settings);
        let mut rng = Rng::new(42);
        for _ in 0..4 {
            // Random splits from 1 to 8192 samples, including runs of tiny blocks.
            let blocks: Vec<usize> = (0..64)
                .map(|_| match rng.below(4) {
                    0 => 1 + rng.below(8),
                    1 => 1 + rng.below(64),
                    _ => 1 + rng.below(8192),
                })
                .collect();
            let split = run_chain_blocks(&input, rate, &settings, &blocks);
            assert_eq!(split, whole, "{rate} Hz, {style:?}, blocks {blocks:?}");
        }
    }
}

#[test]
fn an_impulse_appears_exactly_at_the_reported_latency() {
    for rate in SAMPLE_RATES {
        for (lookahead_ms, style) in [
            (0.5, LimiterStyle::Balanced),
            (2.0, LimiterStyle::Transparent),
            (10.0, LimiterStyle::Loud),
        ] {
            let mut settings = ChainSettings::default();
            settings.limiter.lookahead_ms = lookahead_ms;
            settings.limiter.style = style;
            let mut chain = Chain::new();
            chain.prepare(rate, 1024);
            let latency = chain.latency_samples();
            let mut x = vec![vec![0.0f32; 8192]; 2];
            x[0][100] = 0.25;
            x[1][100] = -0.25;
            let mut block: Vec<&mut [f32]> = x.iter_mut().map(|c| &mut c[..]).collect();
            chain.process(&mut block, &settings, &mut Meters::default());
            assert_eq!(chain.latency_samples(), latency);
            let (at, value) = x[0].iter().enumerate().fold((0, 0.0f32), |b, (i, &v)| {
                if v.abs() > b.1.abs() {
                    (i, v)
                } else {
                    b
                }
            });
            assert_eq!(at, 100 + latency, "{rate} Hz, {lookahead_ms} ms");
            assert_eq!(value, 0.25, "{rate} Hz: the impulse passes unchanged");
            assert_eq!(x[1][100 + latency], -0.25);
        }
    }
}

#[test]
fn neutral_chain_is_a_pure_delay() {
    for rate in SAMPLE_RATES {
        // Peaks at -6 dBFS: under the default -1 dBTP ceiling, so every stage is neutral.
        let input = music_like(40_000, rate, 0.5, 3);
        let out = run_chain(&input, rate, &ChainSettings::default());
        let latency = {
            let mut c = Chain::new();
            c.prepare(rate, 512);
            c.latency_samples()
        };
        for ch in 0..2 {
            let residual = max_difference_db(&out[ch][latency..], &input[ch][..40_000 - latency]);
            assert!(residual <= -120.0, "{rate} Hz: residual {residual} dBFS");
        }
    }
}

#[test]
fn hostile_samples_never_reach_the_output_and_leave_no_trace() {
    let rate = 48_000.0;
    let settings = busy_settings();
    let clean = music_like(96_000, rate, 0.9, 11);
    let mut hostile = clean.clone();
    // The first 10 000 frames: NaN, ±Inf and subnormals scattered through the music.
    let mut rng = Rng::new(5);
    for _ in 0..3000 {
        let i = rng.below(10_000);
        let c = rng.below(2);
        hostile[c][i] = match rng.below(4) {
            0 => f32::NAN,
            1 => f32::INFINITY,
            2 => f32::NEG_INFINITY,
            _ => f32::from_bits(1 + rng.below(0x007F_FFFF) as u32), // subnormal
        };
    }
    let mut reference = hostile.clone();
    for c in &mut reference {
        for s in c.iter_mut() {
            if !s.is_finite() || s.abs() < 1e-30 {
                *s = 0.0;
            }
        }
    }
    let out = run_chain_blocks(&hostile, rate, &settings, &[1, 333, 4096, 17]);
    for c in &out {
        for &s in c {
            assert!(s.is_finite(), "non-finite output");
            assert!(
                s == 0.0 || s.abs() >= f32::MIN_POSITIVE,
                "subnormal output {s:e}"
            );
        }
    }
    // Within one second of the last bad sample the output is exactly what the same music
    // without the bad samples gives: nothing stuck in any state.
    let expected = run_chain(&reference, rate, &settings);
    let one_second_later = 10_000 + rate as usize;
    for c in 0..2 {
        assert_eq!(out[c][one_second_later..], expected[c][one_second_later..]);
    }
}

#[test]
fn output_true_peak_stays_under_the_ceiling_per_ebur128() {
    for rate in [44_100.0f32, 48_000.0, 96_000.0] {
        for ceiling in [-1.0f32, -0.1, -3.0] {
            let mut settings = ChainSettings::default();
            settings.limiter.ceiling_dbtp = ceiling;
            settings.limiter.drive_db = 18.0;
            let input = music_like(rate as usize * 4, rate, 1.0, 9);
            let out = run_chain(&input, rate, &settings);
            let tp = ebur128_true_peak_dbtp(&out, rate as u32);
            assert!(
                tp <= ceiling as f64,
                "{rate} Hz, ceiling {ceiling}: {tp:.3} dBTP"
            );
            assert!(
                tp > ceiling as f64 - 0.5,
                "{rate} Hz: limiter too cautious, {tp:.3} dBTP"
            );
        }
    }
}

#[test]
fn inter_sample_overs_are_caught() {
    // A sine at fs/4 sampled at ±45°: its samples sit 3 dB under its true peak, the case a
    // sample-peak limiter misses (EBU Tech 3341, test signals 15–23).
    let rate = 48_000.0;
    let frames = 48_000;
    let x: Vec<f32> = (0..frames)
        .map(|n| {
            let phase = std::f32::consts::FRAC_PI_2 * n as f32 + std::f32::consts::FRAC_PI_4;
            phase.sin() * 0.95
        })
        .collect();
    let out = run_chain(&[x.clone(), x], rate, &ChainSettings::default());
    let tp = ebur128_true_peak_dbtp(&out, 48_000);
    assert!(tp <= -1.0, "{tp:.3} dBTP");
}

#[test]
fn full_scale_square_waves_and_huge_transients_stay_under_the_ceiling() {
    let rate = 44_100.0;
    let mut rng = Rng::new(77);
    let frames = 88_200;
    let mut x = vec![0.0f32; frames];
    for (n, s) in x.iter_mut().enumerate() {
        *s = if (n / 50) % 2 == 0 { 1.0 } else { -1.0 };
    }
    // +40 dB transients.
    for _ in 0..200 {
        let i = rng.below(frames);
        x[i] = 100.0 * rng.bipolar().signum();
    }
    let mut settings = ChainSettings::default();
    settings.limiter.drive_db = 6.0;
    let out = run_chain(&[x.clone(), x], rate, &settings);
    let tp = ebur128_true_peak_dbtp(&out, 44_100);
    assert!(tp <= -1.0, "{tp:.3} dBTP");
}

#[test]
fn latency_is_the_same_at_every_look_ahead() {
    for rate in SAMPLE_RATES {
        let mut chain = Chain::new();
        chain.prepare(rate, 512);
        let latency = chain.latency_samples();
        let mut x = vec![vec![0.1f32; 256]; 2];
        for lookahead_ms in [0.5, 3.3, 10.0] {
            let mut s = ChainSettings::default();
            s.limiter.lookahead_ms = lookahead_ms;
            let mut block: Vec<&mut [f32]> = x.iter_mut().map(|c| &mut c[..]).collect();
            chain.process(&mut block, &s, &mut Meters::default());
            assert_eq!(
                chain.latency_samples(),
                latency,
                "{rate} Hz, {lookahead_ms} ms"
            );
        }
    }
}

#[test]
fn turning_the_look_ahead_while_limiting_never_lets_a_peak_through() {
    let rate = 48_000.0;
    let input = music_like(rate as usize * 4, rate, 1.0, 21);
    let mut out = input.clone();
    let mut chain = Chain::new();
    chain.prepare(rate, 512);
    let mut settings = busy_settings();
    settings.output.gain_db = 0.0;
    let mut rng = Rng::new(3);
    let frames = out[0].len();
    let mut start = 0;
    while start < frames {
        let end = (start + 1 + rng.below(700)).min(frames);
        settings.limiter.lookahead_ms = 0.5 + rng.below(96) as f32 * 0.1;
        let mut block: Vec<&mut [f32]> = out.iter_mut().map(|c| &mut c[start..end]).collect();
        chain.process(&mut block, &settings, &mut Meters::default());
        start = end;
    }
    let tp = ebur128_true_peak_dbtp(&out, 48_000);
    assert!(tp <= settings.limiter.ceiling_dbtp as f64, "{tp:.3} dBTP");
}

#[test]
fn output_loudness_meters_read_ebu_tech_3341_case_1() {
    // EBU Tech 3341, test 1: stereo 1 kHz sine at -23 dBFS per channel reads -23.0 LUFS
    // momentary, short-term and integrated, within ±0.1 LU.
    let rate = 48_000.0;
    let amplitude = 10f32.powf(-23.0 / 20.0);
    let frames = rate as usize * 20;
    let x: Vec<f32> = (0..frames)
        .map(|n| (2.0 * std::f32::consts::PI * 1000.0 * n as f32 / rate).sin() * amplitude)
        .collect();
    let mut buf = [x.clone(), x];
    let mut chain = Chain::new();
    chain.prepare(rate, 512);
    let mut meters = Meters::default();
    let (l, r) = buf.split_at_mut(1);
    for (lb, rb) in l[0].chunks_mut(512).zip(r[0].chunks_mut(512)) {
        chain.process(&mut [lb, rb], &ChainSettings::default(), &mut meters);
    }
    for (what, lufs) in [
        ("momentary", meters.output_loudness.momentary_lufs),
        ("short-term", meters.output_loudness.short_term_lufs),
        ("integrated", meters.output_loudness.integrated_lufs),
        ("input integrated", meters.input_loudness.integrated_lufs),
    ] {
        assert!((lufs + 23.0).abs() <= 0.1, "{what}: {lufs} LUFS");
    }
    // A steady tone has no loudness range. A 1 kHz sine of amplitude A on both channels reads
    // A dB LUFS (BS.1770: -3.01 dB of RMS, +3.01 dB for two channels, K-weighting +0.69 dB
    // cancelled by the -0.691 offset), and its true peak is A: the PLR is 0.
    let out = meters.output_loudness;
    assert!(out.range_lu.abs() <= 0.1, "LRA {}", out.range_lu);
    assert!(
        (out.true_peak_dbtp + 23.0).abs() <= 0.1,
        "TP {}",
        out.true_peak_dbtp
    );
    assert!(out.plr_db.abs() <= 0.2, "PLR {}", out.plr_db);
}

#[test]
fn tiny_decaying_tails_never_leave_as_subnormal_numbers() {
    // clap-validator's fuzzer found a subnormal output sample. Tiny levels through every stage,
    // and a huge sample that drives the limiter's gain down to ~1e-30 (fails without the
    // chain's final flush).
    let rate = 48_000.0;
    let mut settings = busy_settings();
    settings.output.gain_db = -24.0;
    settings.input.trim_db = -24.0;
    for level in [1e-29f32, 1e-20, 1e-10] {
        let mut x = vec![vec![0.0f32; 20_000]; 2];
        for (i, s) in x[0].iter_mut().enumerate().take(300) {
            *s = level * ((i % 7) as f32 - 3.0);
        }
        x[1][0] = level;
        // A huge (finite) sample next to them: the limiter's gain drops to ~1e-30, and
        // ordinary samples under that gain land in the subnormal range.
        x[1][100] = 1e30;
        x[1][101] = 1e-8;
        let out = run_chain_blocks(&x, rate, &settings, &[1, 64, 500]);
        for c in &out {
            for &s in c {
                assert!(
                    s == 0.0 || s.abs() >= f32::MIN_POSITIVE,
                    "level {level:e}: {s:e}"
                );
            }
        }
    }
}

/// The contract tests above cover the transient clipper at work: on their signal the Loud
/// style's output differs from the limiter alone.
#[test]
fn the_contract_signal_makes_the_clipper_work() {
    let rate = 48_000.0;
    let input = music_like(60_000, rate, 0.9, 7);
    let mut settings = busy_settings();
    settings.limiter.style = LimiterStyle::Transparent;
    let alone = run_chain(&input, rate, &settings);
    settings.limiter.style = LimiterStyle::Loud;
    let clipped = run_chain(&input, rate, &settings);
    let differ = alone[0]
        .iter()
        .zip(&clipped[0])
        .filter(|(a, b)| a != b)
        .count();
    assert!(differ > 1000, "{differ} samples differ");
}
