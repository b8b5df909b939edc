//! The gain-matched A/B bypass: aligned, level-matched, click-free.

mod common;

use common::*;
use lathe::dsp::{Chain, ChainSettings, Meters};

/// Runs `input` through one chain in 480-frame blocks, bypass switched on from `switch_at`.
fn run_with_switch(
    input: &[Vec<f32>],
    rate: f32,
    settings: &ChainSettings,
    switch_at: usize,
    metering: bool,
) -> Vec<Vec<f32>> {
    let mut chain = Chain::new();
    chain.set_metering(metering);
    chain.prepare(rate, 480);
    let mut meters = Meters::default();
    let mut out = input.to_vec();
    let frames = out[0].len();
    let mut s = *settings;
    let mut start = 0;
    while start < frames {
        let end = (start + 480).min(frames);
        s.monitor.bypass = start >= switch_at;
        let (l, r) = out.split_at_mut(1);
        chain.process(
            &mut [&mut l[0][start..end], &mut r[0][start..end]],
            &s,
            &mut meters,
        );
        start = end;
    }
    out
}

fn latency(rate: f32) -> usize {
    let mut c = Chain::new();
    c.prepare(rate, 480);
    c.latency_samples()
}

#[test]
fn bypass_plays_the_input_aligned_once_the_crossfade_is_over() {
    let rate = 48_000.0;
    let input = music_like(48_000, rate, 0.5, 4);
    let mut s = ChainSettings::default();
    s.stereo.width_pct = 150.0;
    // Metering off: nothing to match, so the bypass is the input itself, delayed.
    let out = run_with_switch(&input, rate, &s, 0, false);
    let lat = latency(rate);
    let after_fade = (0.02 * rate) as usize + 1;
    for c in 0..2 {
        let d = max_difference_db(
            &out[c][after_fade + lat..],
            &input[c][after_fade..48_000 - lat],
        );
        assert!(d <= -120.0, "channel {c}: {d:.1} dBFS");
    }
}

#[test]
fn bypass_matches_the_master_loudness_and_does_not_click() {
    let rate = 48_000.0;
    let input = music_like(48_000 * 12, rate, 0.5, 8);
    let mut s = ChainSettings::default();
    s.limiter.drive_db = 9.0;
    let switch_at = 48_000 * 6;
    let out = run_with_switch(&input, rate, &s, switch_at, true);
    let loudness = |x: &[Vec<f32>]| {
        let mut m = ebur128::EbuR128::new(2, 48_000, ebur128::Mode::I).unwrap();
        m.add_frames_planar_f32(&[&x[0], &x[1]]).unwrap();
        m.loudness_global().unwrap()
    };
    let seg = |a: usize, b: usize| vec![out[0][a..b].to_vec(), out[1][a..b].to_vec()];
    let master = loudness(&seg(48_000 * 2, switch_at));
    let bypassed = loudness(&seg(switch_at + 48_000, 48_000 * 12));
    let raw = loudness(&input);
    assert!(
        master - raw > 4.0,
        "the master is louder than the mix: {master:.2} vs {raw:.2}"
    );
    assert!(
        (bypassed - master).abs() <= 0.3,
        "bypass {bypassed:.2} LUFS vs master {master:.2} LUFS"
    );
    // No click: around the switch no step is larger than the largest step elsewhere.
    let step = |x: &[f32]| x.windows(2).fold(0.0f32, |m, w| m.max((w[1] - w[0]).abs()));
    let normal = step(&out[0][48_000..switch_at]).max(step(&out[0][switch_at + 48_000..]));
    let around = step(&out[0][switch_at - 480..switch_at + 2_400]);
    assert!(
        around <= normal * 1.01,
        "step at the switch {around} vs {normal}"
    );
}
