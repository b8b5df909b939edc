//! The stereo stage's mono-below through the whole chain, at every supported rate: the bass
//! comes out mono, switching it and moving its frequency make no click, off is transparent to
//! the bit, and it adds no latency.

mod common;

use common::*;
use lathe::dsp::{Chain, ChainSettings, Meters};

fn mono_below(hz: f32) -> ChainSettings {
    let mut s = ChainSettings::default();
    s.stereo.mono_below = true;
    s.stereo.mono_below_hz = hz;
    s
}

/// A 60 Hz bass a quarter period apart in the two channels (a wide, phasey bass: it partly
/// cancels in mono), plus a 2 kHz tone in the centre.
fn wide_bass(frames: usize, rate: f32) -> Vec<Vec<f32>> {
    let tau = 2.0 * std::f32::consts::PI;
    let t = |n: usize| n as f32 / rate;
    let tone = |n: usize| 0.1 * (tau * 2000.0 * t(n)).sin();
    let left = (0..frames)
        .map(|n| 0.3 * (tau * 60.0 * t(n)).sin() + tone(n))
        .collect();
    let right = (0..frames)
        .map(|n| 0.3 * (tau * 60.0 * t(n) + std::f32::consts::FRAC_PI_2).sin() + tone(n))
        .collect();
    vec![left, right]
}

/// Plays `input` in 512-sample blocks with `settings(block index)`.
fn play(
    rate: f32,
    input: &[Vec<f32>],
    settings: impl Fn(usize) -> ChainSettings,
) -> (Vec<Vec<f32>>, f32) {
    play_in_blocks(rate, input, 512, settings)
}

/// Plays `input` in `block`-sample blocks; the correlation is the meter's for the last block.
fn play_in_blocks(
    rate: f32,
    input: &[Vec<f32>],
    block: usize,
    settings: impl Fn(usize) -> ChainSettings,
) -> (Vec<Vec<f32>>, f32) {
    let mut chain = Chain::new();
    chain.prepare(rate, block);
    let mut out = input.to_vec();
    let mut meters = Meters::default();
    let frames = out[0].len();
    for (k, start) in (0..frames).step_by(block).enumerate() {
        let end = (start + block).min(frames);
        let mut block: Vec<&mut [f32]> = out.iter_mut().map(|c| &mut c[start..end]).collect();
        chain.process(&mut block, &settings(k), &mut meters);
    }
    (out, meters.correlation)
}

/// Largest magnitude of a signal's second difference: a sine of frequency f and amplitude A
/// gives A·(2π f/fs)², tiny for a bass; a step or a kink (a click) stands out.
fn largest_kink(x: &[f32]) -> f32 {
    x.windows(3)
        .map(|w| (w[2] - 2.0 * w[1] + w[0]).abs())
        .fold(0.0, f32::max)
}

#[test]
fn the_bass_comes_out_mono_and_the_correlation_shows_it() {
    for rate in SAMPLE_RATES {
        let frames = rate as usize;
        let input = wide_bass(frames, rate);
        // The meter reads one block: blocks of 1/20 s hold whole periods of both tones (3 of
        // the bass, 100 of the 2 kHz), so the figure is the signal's, not the block's phase.
        // (In 512-sample blocks the last one is a fraction of a bass period, and what it reads
        // moved with the chain's latency.)
        let block = frames / 20;
        let (dry, before) = play_in_blocks(rate, &input, block, |_| ChainSettings::default());
        let (out, after) = play_in_blocks(rate, &input, block, |_| mono_below(120.0));
        let side = |x: &[Vec<f32>]| {
            (frames / 2..frames)
                .map(|i| ((x[0][i] - x[1][i]) * 0.5).abs())
                .fold(0.0f32, f32::max)
        };
        // The side of the bass, 0.3·sin(45°) = 0.21, comes out an octave under the 120 Hz
        // LR4 high pass: 24.6 dB down, 0.0125.
        assert!(
            (side(&dry) - 0.212).abs() < 0.002,
            "{rate} Hz: {}",
            side(&dry)
        );
        assert!(side(&out) < 0.0135, "{rate} Hz: side {}", side(&out));
        assert!(before < 0.8, "{rate} Hz: the input is not mono ({before})");
        assert!(
            after > 0.9,
            "{rate} Hz: correlation after mono-below {after}"
        );
    }
}

#[test]
fn switching_and_moving_mono_below_makes_no_click() {
    for rate in SAMPLE_RATES {
        let frames = rate as usize * 2;
        let input = wide_bass(frames, rate);
        let (dry, _) = play(rate, &input, |_| ChainSettings::default());
        // On at 120 Hz, off, on again, then jumps of the frequency: each at a block edge.
        let schedule = |k: usize| {
            let mut s = mono_below(match k / 40 {
                0..=3 => 120.0,
                4 => 40.0,
                5 => 400.0,
                _ => 90.0,
            });
            s.stereo.mono_below = !matches!(k / 20, 0 | 3);
            s
        };
        let (out, _) = play(rate, &input, schedule);
        let latency = {
            let mut c = Chain::new();
            c.prepare(rate, 512);
            c.latency_samples()
        };
        let body = latency + 64..frames;
        let reference = dry
            .iter()
            .map(|c| largest_kink(&c[body.clone()]))
            .fold(0.0, f32::max);
        let switched = out
            .iter()
            .map(|c| largest_kink(&c[body.clone()]))
            .fold(0.0, f32::max);
        // A hard switch would step the side's 0.3 by up to its full size; the fades and the
        // glide keep every kink within half again what the 2 kHz tone itself has.
        assert!(
            switched < 1.5 * reference,
            "{rate} Hz: largest kink {switched} vs {reference} without mono-below"
        );
        // The check can fail: the same schedule without the fade (a hard cut of the side).
        let hard: Vec<f32> = (0..frames)
            .map(|n| {
                if (n / 512) / 20 == 1 {
                    (input[0][n] + input[1][n]) * 0.5
                } else {
                    input[0][n]
                }
            })
            .collect();
        assert!(
            largest_kink(&hard) > 1.5 * reference,
            "{rate} Hz: the kink test is blind"
        );
    }
}

#[test]
fn off_again_is_transparent_to_the_bit() {
    for rate in SAMPLE_RATES {
        let frames = rate as usize;
        let input = music_like(frames, rate, 0.5, 4);
        let (never, _) = play(rate, &input, |_| ChainSettings::default());
        // On for the first 20 blocks, then off: once faded out (20 ms), the stage is gone.
        let (out, _) = play(rate, &input, |k| {
            let mut s = mono_below(150.0);
            s.stereo.mono_below = k < 20;
            s
        });
        let latency = {
            let mut c = Chain::new();
            c.prepare(rate, 512);
            c.latency_samples()
        };
        let from = 20 * 512 + (rate * 0.02) as usize + 1 + latency;
        assert!(
            out[0][..from] != never[0][..from],
            "{rate} Hz: mono-below did nothing"
        );
        for ch in 0..2 {
            assert_eq!(out[ch][from..], never[ch][from..], "{rate} Hz");
        }
    }
}

#[test]
fn mono_below_adds_no_latency() {
    for rate in SAMPLE_RATES {
        let mut chain = Chain::new();
        chain.prepare(rate, 1024);
        let latency = chain.latency_samples();
        // An impulse in the mid: it goes through the allpass, whose response starts at once.
        let mut x = vec![vec![0.0f32; 8192]; 2];
        x[0][100] = 0.25;
        x[1][100] = 0.25;
        let mut block: Vec<&mut [f32]> = x.iter_mut().map(|c| &mut c[..]).collect();
        chain.process(&mut block, &mono_below(120.0), &mut Meters::default());
        for ch in &x {
            let at = ch
                .iter()
                .enumerate()
                .fold(
                    (0, 0.0f32),
                    |b, (i, &v)| if v.abs() > b.1 { (i, v.abs()) } else { b },
                )
                .0;
            assert_eq!(at, 100 + latency, "{rate} Hz");
        }
    }
}

#[test]
fn switching_and_gliding_are_block_size_invariant_at_every_rate() {
    // Settings change at sample `at` (a block edge in every split, as automation is); how
    // the rest is split does not matter.
    for rate in SAMPLE_RATES {
        let input = music_like(rate as usize / 2, rate, 0.8, 12);
        let at = input[0].len() / 3;
        let first = mono_below(300.0);
        let mut second = mono_below(45.0);
        second.stereo.width_pct = 140.0;
        let run = |blocks: &[usize]| {
            let mut chain = Chain::new();
            chain.prepare(rate, 8192);
            let mut out = input.clone();
            let frames = out[0].len();
            let (mut start, mut k) = (0, 0);
            while start < frames {
                let limit = if start < at { at } else { frames };
                let end = (start + blocks[k % blocks.len()]).min(limit);
                k += 1;
                let s = if start < at { &first } else { &second };
                let mut block: Vec<&mut [f32]> =
                    out.iter_mut().map(|c| &mut c[start..end]).collect();
                chain.process(&mut block, s, &mut Meters::default());
                start = end;
            }
            out
        };
        let whole = run(&[1 << 20]);
        let mut rng = Rng::new(rate as u64);
        let blocks: Vec<usize> = (0..40).map(|_| 1 + rng.below(3000)).collect();
        assert!(run(&blocks) == whole, "{rate} Hz");
    }
}
