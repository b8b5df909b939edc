//! Needs: cargo xtask bundle lathe --release
//!
//! Host conformance: the built `Lathe.clap`, driven through clack-host the way DAWs drive it,
//! keeps the contracts of DESIGN.md at the plugin boundary: exact latency at every rate across
//! re-activation, block-size invariance with blocks of 1 to 8192 frames, sample-accurate
//! parameter events, state that restores the sound, a host bypass that is the delayed input,
//! the mono layout, and instances that share nothing. Run with
//! `cargo test --release --features render --test host_conformance -- --nocapture`.

#[path = "common/clap_host.rs"]
mod clap_host;
mod common;

use std::sync::{Arc, Barrier};

use clack_host::prelude::ClapId;
use clap_host::{Lathe, ParamChange, HOT};
use common::{ebur128_true_peak_dbtp, music_like, Rng, SAMPLE_RATES};
use lathe::dsp::settings::CEILING_DBTP;
use lathe::dsp::ChainSettings;

/// Host block lengths, cycled: single frames, odd lengths, powers of two.
const HOST_BLOCKS: [usize; 6] = [1, 64, 441, 512, 1024, 7];
/// `max_frames_count` at activation: the longest block any test sends.
const MAX_BLOCK: u32 = 8192;

/// The first frame where two renders differ, with the channel and both values.
fn first_difference(a: &[Vec<f32>], b: &[Vec<f32>]) -> Option<(usize, usize, f32, f32)> {
    assert_eq!(a.len(), b.len(), "channel counts differ");
    let frames = a[0].len();
    assert!(
        a.iter().chain(b).all(|c| c.len() == frames),
        "lengths differ"
    );
    (0..frames).find_map(|n| {
        (0..a.len()).find_map(|c| {
            (a[c][n].to_bits() != b[c][n].to_bits()).then_some((n, c, a[c][n], b[c][n]))
        })
    })
}

/// Asserts two renders are the same to the bit, naming the first sample that is not.
fn assert_bit_identical(what: &str, a: &[Vec<f32>], b: &[Vec<f32>]) {
    if let Some((n, c, x, y)) = first_difference(a, b) {
        let max = a
            .iter()
            .zip(b)
            .flat_map(|(p, q)| p.iter().zip(q).map(|(&x, &y)| (x - y).abs()))
            .fold(0.0f32, f32::max);
        panic!("{what}: first difference at frame {n}, channel {c}: {x} vs {y} (max |difference| {max:e})");
    }
}

/// The ceiling `HOT` sets: 0.75 of the way from -6 to 0 dBTP.
const HOT_CEILING_DBTP: f64 = -1.5;

fn hot_params(plugin: &Lathe) -> Vec<(ClapId, f64)> {
    HOT.iter()
        .map(|&(name, value)| (plugin.param_id(name), value))
        .collect()
}

/// At every supported rate, and again after re-activating, the latency the plugin reports
/// is the delay a click train goes through. With neutral settings (the defaults) the output is
/// the input moved by exactly that many samples, bit for bit; the click still inside the
/// look-ahead when the host deactivates does not come out after the next activation.
#[test]
fn latency_is_the_measured_delay_at_every_rate_across_reactivation() {
    let mut plugin = Lathe::load();
    // The six rates, then two of them again on the same instance.
    let rates: Vec<f64> = SAMPLE_RATES
        .iter()
        .map(|&r| r as f64)
        .chain([44_100.0, 192_000.0])
        .collect();
    for &rate in &rates {
        plugin.activate(rate, MAX_BLOCK);
        let reported = plugin.latency() as usize;
        assert!(reported > 0, "{rate} Hz: a look-ahead limiter has latency");

        // Clicks of both signs and different sizes, on odd frames, so host blocks cut the
        // train everywhere; the last one is still in the plugin when the input ends.
        let frames = 8 * 997 + reported;
        let mut input = vec![vec![0.0f32; frames]; 2];
        let mut clicks = Vec::new();
        for j in 0..8 {
            let at = 301 + j * 997;
            let value = if j % 2 == 0 { 0.25 } else { -0.125 };
            input[0][at] = value;
            input[1][at] = -value * 0.5;
            clicks.push(at);
        }
        let last = frames - reported / 2;
        input[0][last] = 0.5;
        input[1][last] = 0.5;
        let output = plugin.process(&input, &[], &HOST_BLOCKS);

        // The delay each click came out with: the first output sample that is not silent
        // after the previous click's.
        let mut delays = Vec::new();
        let mut from = 0;
        for &at in &clicks {
            let out_at = (from..frames)
                .find(|&n| output[0][n] != 0.0)
                .unwrap_or_else(|| panic!("{rate} Hz: the click at {at} never came out"));
            delays.push(out_at as isize - at as isize);
            from = out_at + 1;
        }
        println!(
            "{rate:>8} Hz: reported latency {reported} samples ({:.3} ms), clicks came out {delays:?} samples late",
            reported as f64 * 1000.0 / rate
        );
        assert!(
            delays.iter().all(|&d| d == reported as isize),
            "{rate} Hz: reported {reported}, measured {delays:?}"
        );
        // Exactly the input, delayed: nothing before the latency (no leftover from the
        // previous activation), every sample after it the input's.
        for (c, (out, inp)) in output.iter().zip(&input).enumerate() {
            assert!(
                out[..reported].iter().all(|&s| s == 0.0),
                "{rate} Hz, channel {c}: output before the latency ran out"
            );
            let moved = &inp[..frames - reported];
            if let Some(n) = (0..moved.len()).find(|&n| out[n + reported] != moved[n]) {
                panic!(
                    "{rate} Hz, channel {c}: neutral output is not the delayed input at input frame {n}: {} vs {}",
                    out[n + reported],
                    moved[n]
                );
            }
        }
        plugin.deactivate();
    }
}

/// A random sequence of block lengths covering 1 to 8192 frames (log-uniform, so short and
/// long blocks both come often), starting with the edge cases, summing to `frames`.
fn random_blocks(frames: usize, seed: u64) -> Vec<usize> {
    let mut rng = Rng::new(seed);
    let mut blocks = vec![1, 2, 8192, 3, 8191, 1, 4097, 2];
    let mut total: usize = blocks.iter().sum();
    while total < frames {
        let octaves = rng.below(14 * 16) as f64 / 16.0;
        let len = (2f64.powf(octaves) as usize).clamp(1, MAX_BLOCK as usize);
        let len = len.min(frames - total);
        blocks.push(len);
        total += len;
    }
    assert_eq!(blocks.iter().sum::<usize>(), frames);
    blocks
}

/// Blocks of 1 to 8192 frames, varying inside one run, give the output of fixed
/// 512-frame blocks to the bit, with every stage working (Learn too, whose gain follows the
/// program).
#[test]
fn blocks_from_1_to_8192_varying_in_one_run_match_fixed_512_frame_blocks() {
    let rate = 48_000.0;
    let frames = 96_000;
    let input = music_like(frames, rate as f32, 0.9, 21);
    let blocks = random_blocks(frames, 7);
    let odd = blocks.iter().filter(|&&b| b % 2 == 1).count();
    println!(
        "{} blocks, {} odd, shortest {}, longest {}: {:?}…",
        blocks.len(),
        odd,
        blocks.iter().min().unwrap(),
        blocks.iter().max().unwrap(),
        &blocks[..16]
    );
    assert!(blocks.contains(&1) && blocks.contains(&2) && blocks.contains(&8192));
    assert!(odd > 10, "too few odd blocks: {odd}");

    let render = |blocks: &[usize]| {
        let mut plugin = Lathe::load();
        plugin.activate(rate, MAX_BLOCK);
        let mut params = hot_params(&plugin);
        params.push((plugin.param_id("Learn"), 1.0));
        plugin.process(&input, &params, blocks)
    };
    let varying = render(&blocks);
    let fixed = render(&[512]);
    assert_bit_identical("varying blocks vs 512-frame blocks", &varying, &fixed);
    // The run was not trivial: the limiter held the ceiling (less the -0.48 dB output gain) on
    // a signal driven far over it.
    let ceiling_db = HOT_CEILING_DBTP;
    let tp = ebur128_true_peak_dbtp(&fixed, rate as u32);
    println!("bit-identical; output true peak {tp:.2} dBTP (ceiling {ceiling_db:.1})");
    assert!(
        tp <= ceiling_db && tp > ceiling_db - 1.0,
        "output true peak {tp:.2} dBTP vs ceiling {ceiling_db}"
    );
}

/// The frame the renders first differ at, or `None`.
fn first_different_frame(a: &[Vec<f32>], b: &[Vec<f32>]) -> Option<usize> {
    first_difference(a, b).map(|(n, ..)| n)
}

/// Host blocks of `size` frames, also cut at every change's frame, so each change falls on
/// offset 0 of a block.
fn blocks_cut_at(frames: usize, size: usize, changes: &[ParamChange]) -> Vec<usize> {
    let mut cuts: Vec<usize> = (0..frames).step_by(size).collect();
    cuts.extend(changes.iter().map(|c| c.frame));
    cuts.push(frames);
    cuts.sort_unstable();
    cuts.dedup();
    cuts.windows(2).map(|w| w[1] - w[0]).collect()
}

/// A parameter event at offset k inside a host block changes the output from that frame
/// on, not from the block's start: the output gain (after the limiter) at once, the input
/// trim once the latency has passed. Events inside blocks give what the same events give at
/// the start of blocks cut there (nice-plug splits the block at each event because the plugin
/// sets `SAMPLE_ACCURATE_AUTOMATION`).
#[test]
fn parameter_events_take_effect_at_their_sample_offset() {
    let rate = 48_000.0;
    let frames = 24_000;
    // Quiet enough that the limiter does nothing: only the parameter changes the output.
    let input = music_like(frames, rate as f32, 0.25, 33);
    let mut plugin = Lathe::load();
    let out_gain = plugin.param_id("Output Gain");
    let trim = plugin.param_id("Input Trim");
    let width = plugin.param_id("Width");
    let tilt = plugin.param_id("Tilt");
    let render = |changes: &[ParamChange], blocks: &[usize]| {
        let mut plugin = Lathe::load();
        plugin.activate(rate, MAX_BLOCK);
        let latency = plugin.latency() as usize;
        (plugin.process_events(&input, changes, blocks), latency)
    };
    let (reference, latency) = render(&[], &[512]);

    // The output gain, 137 frames into the sixth 512-frame block.
    let k = 5 * 512 + 137;
    let change = |frame, id, value| ParamChange { frame, id, value };
    let (out, _) = render(&[change(k, out_gain, 0.75)], &[512]);
    let at = first_different_frame(&reference, &out);
    println!("Output Gain -6 dB at frame {k} (offset 137): output changes from frame {at:?}");
    assert_eq!(
        at,
        Some(k),
        "the output gain change did not start at its frame"
    );

    // The input trim, 301 frames into the eighth block: heard `latency` frames later.
    let k = 7 * 512 + 301;
    let (out, _) = render(&[change(k, trim, 0.4)], &[512]);
    let at = first_different_frame(&reference, &out);
    println!(
        "Input Trim at frame {k} (offset 301): output changes from frame {at:?} = {k} + latency {latency}"
    );
    assert_eq!(
        at,
        Some(k + latency),
        "the trim change is not heard at its frame plus the latency"
    );

    // Several events inside blocks, two on one frame, one on the last frame of a block and
    // one on the first frame of the next, give what blocks cut at the events give.
    let changes = [
        change(1_000, width, 0.8),
        change(1_000, out_gain, 0.9),
        change(2_047, tilt, 0.7),
        change(2_048, trim, 0.55),
        change(3_333, width, 0.3),
        change(9_001, out_gain, 0.6),
        change(15_555, tilt, 0.2),
    ];
    let (inside, _) = render(&changes, &[512]);
    let cut = blocks_cut_at(frames, 512, &changes);
    let (at_starts, _) = render(&changes, &cut);
    assert_bit_identical(
        "events inside blocks vs blocks cut at the events",
        &inside,
        &at_starts,
    );
    assert!(first_different_frame(&reference, &inside).is_some());
    // And the plugin now holds the last value sent for each.
    plugin.activate(rate, MAX_BLOCK);
    plugin.process_events(&input, &changes, &[512]);
    for (id, value) in [(width, 0.3), (out_gain, 0.6), (tilt, 0.2), (trim, 0.55)] {
        let held = plugin.param_value(id);
        assert!(
            (held - value).abs() < 1e-3,
            "parameter {id}: holds {held} after {value} was sent"
        );
    }
}

/// Parameter changes spread over a render, the way a session changes them: every `HOT` value,
/// plus a preset and an enum, at frames inside blocks.
fn session_changes(plugin: &Lathe, frames: usize) -> Vec<ParamChange> {
    let mut changes: Vec<ParamChange> = HOT
        .iter()
        .enumerate()
        .map(|(i, &(name, value))| ParamChange {
            frame: i * frames / HOT.len() + 37,
            id: plugin.param_id(name),
            value,
        })
        .collect();
    for (frame, name, value) in [
        (frames / 3, "Target", 0.5),
        (frames / 2 + 1, "Auto Release", 1.0),
        (frames / 2 + 2, "Multiband Mid/Side", 1.0),
    ] {
        changes.push(ParamChange {
            frame,
            id: plugin.param_id(name),
            value,
        });
    }
    changes.sort_by_key(|c| c.frame);
    changes
}

/// State is the settings, not the history: a fresh instance restored from the state of one
/// that has played audio and had its parameters changed plays the next audio exactly as that
/// instance does once the host re-activates it (which clears filters and delays), and exactly
/// as a fresh instance given the same parameter values by events. Loading and saving again
/// gives the same state.
#[test]
fn a_restored_state_plays_bit_identically() {
    let rate = 48_000.0;
    let before = music_like(36_000, rate as f32, 0.7, 41);
    let after = music_like(36_000, rate as f32, 0.8, 42);

    // A plays, with changes inside blocks, and the host saves the session.
    let mut a = Lathe::load();
    a.activate(rate, MAX_BLOCK);
    let changes = session_changes(&a, before[0].len());
    a.process_events(&before, &changes, &HOST_BLOCKS);
    let state = a.save_state();
    let values: Vec<(ClapId, f64)> = a
        .params
        .clone()
        .iter()
        .map(|p| (p.id, a.param_value(p.id)))
        .collect();

    // B: a new instance, the session loaded before activation, as a DAW opens a project.
    let mut b = Lathe::load();
    b.load_state(&state);
    for &(id, value) in &values {
        assert_eq!(
            b.param_value(id),
            value,
            "parameter {id} after loading the state"
        );
    }
    assert_eq!(
        String::from_utf8_lossy(&b.save_state()),
        String::from_utf8_lossy(&state),
        "the state saved again differs from the state loaded"
    );
    b.activate(rate, MAX_BLOCK);
    let restored = b.process(&after, &[], &HOST_BLOCKS);

    // A itself, re-activated (the transport restarts the same way).
    a.activate(rate, MAX_BLOCK);
    let original = a.process(&after, &[], &HOST_BLOCKS);
    assert_bit_identical(
        "restored instance vs the saved one, re-activated",
        &restored,
        &original,
    );

    // C: a fresh instance given the last value of every change by events.
    let mut c = Lathe::load();
    c.activate(rate, MAX_BLOCK);
    let mut last: Vec<(ClapId, f64)> = Vec::new();
    for change in &changes {
        last.retain(|&(id, _)| id != change.id);
        last.push((change.id, change.value));
    }
    let by_events = c.process(&after, &last, &HOST_BLOCKS);
    assert_bit_identical("restored instance vs events", &restored, &by_events);

    // The state mattered: a default instance plays something else.
    let mut d = Lathe::load();
    d.activate(rate, MAX_BLOCK);
    let default = d.process(&after, &[], &HOST_BLOCKS);
    let at = first_different_frame(&restored, &default);
    println!(
        "state: {} bytes, {} parameters; restored = re-activated = by events, to the bit; default differs from frame {at:?}",
        state.len(),
        values.len()
    );
    assert!(
        at.is_some(),
        "the restored instance plays like a default one"
    );
}

/// Two low sines per channel, so a step from one signal to another stands far above the
/// signal's own sample-to-sample steps.
fn low_tones(frames: usize, rate: f64) -> Vec<Vec<f32>> {
    let tau = std::f64::consts::TAU;
    (0..2)
        .map(|c| {
            (0..frames)
                .map(|n| {
                    let t = n as f64 / rate;
                    let phase = c as f64 * 0.7;
                    (0.25 * (tau * 110.0 * t + phase).sin() + 0.15 * (tau * 220.0 * t).sin()) as f32
                })
                .collect()
        })
        .collect()
}

/// The largest step between neighbouring samples of `x[range]`.
fn max_step(x: &[f32], range: std::ops::Range<usize>) -> f32 {
    x[range]
        .windows(2)
        .fold(0.0f32, |m, w| m.max((w[1] - w[0]).abs()))
}

/// The plugin flags a host bypass parameter. Bypassed, it plays the input delayed by the
/// reported latency, bit for bit once the crossfade is over; switching crossfades (no step
/// larger than the two signals' own steps plus the crossfade's share of their difference);
/// the chain keeps running underneath, so after switching back the output is, to the bit,
/// what it would have been without the bypass.
#[test]
fn host_bypass_plays_the_delayed_input_and_switches_without_clicks() {
    let rate = 48_000.0;
    let frames = 48_000;
    let input = low_tones(frames, rate);
    let mut probe = Lathe::load();
    let bypass = probe
        .bypass_param()
        .expect("the plugin flags a parameter as the host's bypass (CLAP_PARAM_IS_BYPASS)");
    let desc = probe
        .params
        .iter()
        .find(|p| p.id == bypass)
        .unwrap()
        .clone();
    println!(
        "bypass parameter: {:?} ({}..{})",
        desc.name, desc.min, desc.max
    );
    assert_eq!((desc.min, desc.max, desc.default), (0.0, 1.0, 0.0));
    assert_eq!(
        probe.param_value(bypass),
        0.0,
        "the plugin starts not bypassed"
    );

    // A sound far from the input: -6 dB out, wide, tilted.
    let sound = [("Output Gain", 0.75), ("Width", 0.8), ("Tilt", 0.8)];
    let on = 12_345; // inside a 512-frame block
    let off = 30_001;
    let render = |toggles: &[(usize, f64)]| {
        let mut plugin = Lathe::load();
        plugin.activate(rate, MAX_BLOCK);
        let mut changes: Vec<ParamChange> = sound
            .iter()
            .map(|&(name, value)| ParamChange {
                frame: 0,
                id: plugin.param_id(name),
                value,
            })
            .collect();
        changes.extend(toggles.iter().map(|&(frame, value)| ParamChange {
            frame,
            id: bypass,
            value,
        }));
        let latency = plugin.latency() as usize;
        (plugin.process_events(&input, &changes, &[512]), latency)
    };
    let (wet, latency) = render(&[]);
    let (out, _) = render(&[(on, 1.0), (off, 0.0)]);
    // The dry signal the bypass plays: the input, `latency` frames late.
    let dry: Vec<Vec<f32>> = input
        .iter()
        .map(|c| {
            let mut d = vec![0.0f32; latency];
            d.extend_from_slice(&c[..frames - latency]);
            d
        })
        .collect();

    let fade = (lathe::dsp::bypass::CROSSFADE_MS as f64 * 1e-3 * rate).ceil() as usize + 1;
    for c in 0..2 {
        // Before the switch: the master, untouched.
        assert!(
            out[c][..on] == wet[c][..on],
            "channel {c}: the bypass changed the output before it was switched on"
        );
        // Bypassed, once the crossfade is over: the input, delayed, to the bit.
        if let Some(n) = (on + fade..off).find(|&n| out[c][n] != dry[c][n]) {
            panic!(
                "channel {c}, frame {n}: bypassed output {} is not the delayed input {}",
                out[c][n], dry[c][n]
            );
        }
        // Back on: the master as if never bypassed.
        assert!(
            out[c][off + fade..] == wet[c][off + fade..],
            "channel {c}: after the bypass the master is not what it would have been"
        );
        // No click at either switch. Over a crossfade y = (1 - m) wet + m dry with m moving
        // by `step` per frame, a step of y is at most the larger step of wet and dry plus
        // `step` times their difference. A hard switch would jump by the whole difference.
        for at in [on, off] {
            let window = at.saturating_sub(100)..at + fade + 100;
            let step = 1.0 / (lathe::dsp::bypass::CROSSFADE_MS * 1e-3 * rate as f32);
            let apart = window
                .clone()
                .map(|n| (wet[c][n] - dry[c][n]).abs())
                .fold(0.0f32, f32::max);
            let bound = max_step(&wet[c], window.clone()).max(max_step(&dry[c], window.clone()))
                + step * apart
                + 1e-6;
            let seen = max_step(&out[c], window);
            println!(
                "channel {c}, switch at {at}: largest step {seen:.5}, bound {bound:.5}; a hard switch would jump up to {apart:.4}"
            );
            assert!(
                seen <= bound,
                "channel {c}: click at the switch at {at}: {seen} > {bound}"
            );
            assert!(
                apart > 10.0 * bound,
                "the test signals are too alike to show a click"
            );
        }
    }
}

/// The mono layout (1 in, 1 out), selected through audio-ports-config on an instance that
/// first played stereo: the plugin reports one channel each way, the output stays finite and
/// under the ceiling with the limiter working hard, and it is what the library's chain makes
/// of the same channel.
#[test]
fn mono_layout_is_finite_under_the_ceiling_and_the_library_chain() {
    let rate = 48_000.0;
    let mut plugin = Lathe::load();
    assert_eq!(plugin.main_port_channels(), (2, 2), "stereo by default");
    plugin.activate(rate, MAX_BLOCK);
    plugin.process(&music_like(4_800, rate as f32, 0.5, 50), &[], &HOST_BLOCKS);

    plugin.select_layout(1);
    assert_eq!(
        plugin.main_port_channels(),
        (1, 1),
        "mono after selecting it"
    );
    plugin.activate(rate, MAX_BLOCK);
    // Music, then a burst of full-scale square wave, driven 18 dB into a -1.5 dBTP ceiling.
    let mut mono = music_like(36_000, rate as f32, 1.0, 51).swap_remove(0);
    for (n, s) in mono[20_000..24_000].iter_mut().enumerate() {
        *s = if (n / 37) % 2 == 0 { 1.0 } else { -1.0 };
    }
    let input = vec![mono];
    let drive = plugin.param_id("Drive");
    let ceiling = plugin.param_id("Ceiling");
    let out = plugin.process(&input, &[(drive, 0.75), (ceiling, 0.75)], &HOST_BLOCKS);
    assert_eq!(out.len(), 1);

    assert!(out[0].iter().all(|s| s.is_finite()), "non-finite output");
    let tp = ebur128_true_peak_dbtp(&out, rate as u32);
    let peak = out[0].iter().fold(0.0f32, |m, &s| m.max(s.abs()));
    println!(
        "mono: sample peak {:.3} dBFS, true peak {tp:.3} dBTP, ceiling {HOT_CEILING_DBTP}",
        20.0 * peak.log10()
    );
    assert!(
        tp <= HOT_CEILING_DBTP,
        "true peak {tp:.3} dBTP over the ceiling"
    );
    assert!(
        tp > HOT_CEILING_DBTP - 0.5,
        "the limiter did not reach the ceiling: {tp:.3}"
    );

    let mut settings = ChainSettings::default();
    settings.limiter.drive_db = 18.0;
    settings.limiter.ceiling_dbtp = HOT_CEILING_DBTP as f32;
    assert_eq!(
        CEILING_DBTP.min + 0.75 * (CEILING_DBTP.max - CEILING_DBTP.min),
        settings.limiter.ceiling_dbtp
    );
    let library = common::run_chain_blocks(&input, rate as f32, &settings, &HOST_BLOCKS);
    assert_bit_identical("mono plugin vs library chain", &out, &library);
}

/// One instance's work in the concurrency test: its rate, audio, settings and host blocks.
struct Job {
    rate: f64,
    input: Vec<Vec<f32>>,
    /// (display name, normalised value), sent at frame 0.
    params: Vec<(&'static str, f64)>,
    blocks: Vec<usize>,
}

impl Job {
    fn new(i: usize) -> Self {
        let rate = SAMPLE_RATES[i % SAMPLE_RATES.len()] as f64;
        let frames = (rate * 0.25) as usize;
        let x = i as f64 / 15.0;
        let mut params = vec![
            ("Input Trim", 0.4 + 0.2 * x),
            ("Drive", 0.1 + 0.4 * x),
            ("Width", 0.3 + 0.6 * x),
            ("Tilt", 1.0 - x),
            ("Multiband", (i % 2) as f64),
            ("Band 2 Ratio", 0.3 * x),
            ("Band 2 Threshold", 0.5),
            ("Release", 0.2 + 0.5 * x),
        ];
        if i.is_multiple_of(3) {
            params.push(("Learn", 1.0));
        }
        let blocks = HOST_BLOCKS.iter().map(|&b| b + i).collect();
        Self {
            rate,
            input: music_like(frames, rate as f32, 0.5 + 0.03 * i as f32, 100 + i as u64),
            params,
            blocks,
        }
    }

    /// Loads, activates, waits at `start` (so all instances play at once), plays.
    fn run(&self, start: Option<&Barrier>) -> Vec<Vec<f32>> {
        let mut plugin = Lathe::load();
        plugin.activate(self.rate, MAX_BLOCK);
        let params: Vec<(ClapId, f64)> = self
            .params
            .iter()
            .map(|&(name, value)| (plugin.param_id(name), value))
            .collect();
        if let Some(barrier) = start {
            barrier.wait();
        }
        plugin.process(&self.input, &params, &self.blocks)
    }
}

/// Sixteen instances in one process, each on its own thread, all playing at once with
/// their own rate, audio, settings and block sizes, each give to the bit what one instance
/// alone gives: instances share nothing mutable.
#[test]
fn sixteen_instances_on_sixteen_threads_share_nothing() {
    const INSTANCES: usize = 16;
    let jobs: Arc<Vec<Job>> = Arc::new((0..INSTANCES).map(Job::new).collect());
    let start = Arc::new(Barrier::new(INSTANCES));
    let threads: Vec<_> = (0..INSTANCES)
        .map(|i| {
            let jobs = Arc::clone(&jobs);
            let start = Arc::clone(&start);
            std::thread::Builder::new()
                .name(format!("instance {i}"))
                .spawn(move || jobs[i].run(Some(&start)))
                .expect("spawn")
        })
        .collect();
    let together: Vec<Vec<Vec<f32>>> = threads
        .into_iter()
        .map(|t| t.join().expect("an instance's thread panicked"))
        .collect();

    for (i, (job, out)) in jobs.iter().zip(&together).enumerate() {
        let alone = job.run(None);
        assert_bit_identical(
            &format!("instance {i} ({} Hz) with 15 others vs alone", job.rate),
            out,
            &alone,
        );
        assert!(out.iter().flatten().all(|s| s.is_finite()));
    }
    // Instances at the same rate played different audio: a mix-up between them would show.
    for i in 0..INSTANCES {
        for j in i + 1..INSTANCES {
            if jobs[i].rate == jobs[j].rate {
                assert!(
                    together[i] != together[j],
                    "instances {i} and {j} played the same"
                );
            }
        }
    }
    println!("{INSTANCES} instances on {INSTANCES} threads: each bit-identical to itself alone");
}

/// Lathe is made for 44.1 to 192 kHz, but hosts activate plugins at whatever rate a project
/// has, and the CLAP validator's fuzzer picks any rate from 1 kHz up. At such rates, in mono
/// and stereo, with a quarter of all parameters set to random values before every block of
/// random length and full-scale noise in, the output stays finite. (The tilt's design once
/// turned to NaN below 4 kHz, where its 1 kHz pivot nears Nyquist; the fuzzer found it.)
#[test]
fn any_rate_a_host_may_ask_for_gives_finite_output() {
    let probe = Lathe::load();
    let ids: Vec<ClapId> = probe.params.iter().map(|p| p.id).collect();
    for rate in [
        1_000.0, 1_106.44, 2_000.0, 3_000.0, 8_000.0, 22_050.0, 384_000.0,
    ] {
        for channels in [1, 2] {
            let mut rng = Rng::new(rate as u64 + channels as u64);
            let mut plugin = Lathe::load();
            plugin.select_layout(channels);
            plugin.activate(rate, 2048);
            for block in 0..40 {
                let mut params: Vec<(ClapId, f64)> = Vec::new();
                for &id in &ids {
                    if rng.below(4) == 0 {
                        params.push((id, 0.5 + 0.5 * rng.bipolar() as f64));
                    }
                }
                let frames = 1 + rng.below(2048);
                let input: Vec<Vec<f32>> = (0..channels)
                    .map(|_| (0..frames).map(|_| rng.bipolar()).collect())
                    .collect();
                let out = plugin.process(&input, &params, &[frames]);
                if let Some(s) = out.iter().flatten().find(|s| !s.is_finite()) {
                    panic!("{rate} Hz, {channels} channel(s), block {block}: output {s}");
                }
            }
        }
    }
}
