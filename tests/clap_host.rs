//! Needs: cargo xtask bundle lathe --release
//!
//! The plugin, loaded from its CLAP bundle by a real (if tiny) host, and the offline renderer
//! are one chain: the same audio and settings give the same samples, once the plugin's output
//! is moved back by the latency it reports. Run with
//! `cargo test --release --features render --test clap_host -- --nocapture`.
#![cfg(feature = "render")]

#[path = "common/clap_host.rs"]
mod clap_host;

use std::path::Path;

use clap_host::Lathe;
use lathe::dsp::settings::{ParamRange, CEILING_DBTP, DRIVE_DB, TRIM_DB, WIDTH_PCT};
use lathe::dsp::ChainSettings;

/// Host block lengths, cycled: odd, tiny and full-size blocks, none aligned with the renderer's.
const HOST_BLOCKS: [usize; 6] = [1, 64, 441, 512, 1024, 7];
const MAX_BLOCK: u32 = 1024;

fn db(x: f64) -> f64 {
    20.0 * x.log10()
}

fn peak(channels: &[Vec<f32>]) -> f32 {
    channels
        .iter()
        .flat_map(|c| c.iter())
        .fold(0.0f32, |m, &s| m.max(s.abs()))
}

/// A parameter change as the host sends it: the parameter's display name (how the test finds
/// its CLAP id), the normalised value on the wire, and the plain value the DSP must receive.
struct Wire {
    name: &'static str,
    normalised: f64,
    range: ParamRange,
    /// The step size `src/params.rs` gives the parameter.
    step: f32,
    plain: f32,
}

impl Wire {
    fn new(name: &'static str, normalised: f64, range: ParamRange, step: f32, plain: f32) -> Self {
        Self {
            name,
            normalised,
            range,
            step,
            plain,
        }
    }

    /// nice-plug's plain value for the normalised one on a linear range with a step size
    /// (`FloatRange::unnormalize`, then `snap_to_step`, in f32 as nice-plug 0.4.2 does it).
    fn nice_plug_plain(&self) -> f32 {
        let (min, max) = (self.range.min, self.range.max);
        let value = self.normalised as f32 * (max - min) + min;
        ((value / self.step).round() * self.step).clamp(min, max)
    }
}

#[test]
fn plugin_and_renderer_are_one_chain() {
    let path = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/francium_excerpt.flac"
    ));
    let audio = lathe::render::decode::decode_file(path)
        .unwrap_or_else(|e| panic!("decoding {}: {e}", path.display()));
    assert_eq!(audio.sample_rate, 48_000, "the excerpt is 48 kHz");
    assert_eq!(audio.channels.len(), 2, "the excerpt is stereo");
    let frames = audio.channels[0].len();
    assert!(
        frames > 48_000,
        "the excerpt is seconds long, got {frames} frames"
    );

    // Settings whose normalised values are exact in binary, so the plugin's plain values equal
    // these to the bit (checked below against nice-plug's own arithmetic).
    let mut settings = ChainSettings::default();
    settings.input.trim_db = -1.5;
    settings.stereo.width_pct = 125.0;
    settings.limiter.drive_db = 6.0;
    settings.limiter.ceiling_dbtp = -1.5;
    let wire = [
        Wire::new("Drive", 0.25, DRIVE_DB, 0.01, settings.limiter.drive_db),
        Wire::new(
            "Ceiling",
            0.75,
            CEILING_DBTP,
            0.01,
            settings.limiter.ceiling_dbtp,
        ),
        Wire::new("Input Trim", 0.46875, TRIM_DB, 0.01, settings.input.trim_db),
        Wire::new("Width", 0.625, WIDTH_PCT, 0.1, settings.stereo.width_pct),
    ];
    for w in &wire {
        assert_eq!(
            w.nice_plug_plain(),
            w.plain,
            "{}: {} does not land on {}",
            w.name,
            w.normalised,
            w.plain
        );
    }

    let mut plugin = Lathe::load();
    plugin.activate(48_000.0, MAX_BLOCK);
    let latency = plugin.latency() as usize;
    assert!(latency > 0, "a look-ahead limiter has latency");
    let events: Vec<_> = wire
        .iter()
        .map(|w| (plugin.param_id(w.name), w.normalised))
        .collect();

    // The whole excerpt, then `latency` samples of silence to flush the look-ahead.
    let host_input: Vec<Vec<f32>> = audio
        .channels
        .iter()
        .map(|c| {
            let mut v = c.clone();
            v.resize(frames + latency, 0.0);
            v
        })
        .collect();
    let host_output = plugin.process(&host_input, &events, &HOST_BLOCKS);

    // The events reached the plugin: it now reports the values sent.
    for w in &wire {
        let id = plugin.param_id(w.name);
        let value = plugin.param_value(id);
        assert_eq!(value, w.normalised, "{} after processing", w.name);
        println!(
            "  {:<11} = {:<7} ({})",
            w.name,
            value,
            plugin.param_text(id, value)
        );
    }
    assert_eq!(
        plugin.latency() as usize,
        latency,
        "latency changed while processing"
    );

    let rendered =
        lathe::render::master::master(&audio.channels, audio.sample_rate, &settings, |_| {});
    assert_eq!(rendered.len(), 2);
    assert_eq!(
        rendered[0].len(),
        frames,
        "master() returns the input's length"
    );

    // Align: plugin output sample n + latency is input sample n.
    let aligned: Vec<&[f32]> = host_output.iter().map(|c| &c[latency..]).collect();
    let mut max_diff = 0.0f64;
    let mut worst = (0, 0);
    for (ch, (p, r)) in aligned.iter().zip(&rendered).enumerate() {
        assert_eq!(p.len(), r.len());
        for (i, (&a, &b)) in p.iter().zip(r).enumerate() {
            let d = (a as f64 - b as f64).abs();
            if d > max_diff {
                max_diff = d;
                worst = (ch, i);
            }
        }
    }
    // What the plugin wrote before its latency ran out is the look-ahead's silence.
    let head = host_output
        .iter()
        .flat_map(|c| c[..latency].iter())
        .fold(0.0f32, |m, &s| m.max(s.abs()));

    let in_peak = peak(&audio.channels) as f64;
    let out_peak = peak(&rendered) as f64;
    let plugin_peak = host_output
        .iter()
        .map(|c| &c[latency..])
        .flat_map(|c| c.iter())
        .fold(0.0f32, |m, &s| m.max(s.abs())) as f64;
    let rms = (rendered
        .iter()
        .flat_map(|c| c.iter())
        .map(|&s| (s as f64).powi(2))
        .sum::<f64>()
        / (2 * frames) as f64)
        .sqrt();
    println!(
        "plugin vs renderer: {frames} frames at {} Hz, reported latency {latency} samples ({:.3} ms)",
        audio.sample_rate,
        latency as f64 * 1000.0 / audio.sample_rate as f64
    );
    println!(
        "  max |difference| = {:e} ({:.1} dBFS) at channel {}, frame {}",
        max_diff,
        if max_diff == 0.0 {
            f64::NEG_INFINITY
        } else {
            db(max_diff)
        },
        worst.0,
        worst.1
    );
    println!(
        "  input peak {:.2} dBFS, output peak plugin {:.2} / renderer {:.2} dBFS, output RMS {:.1} dBFS, pre-latency head peak {:e}",
        db(in_peak),
        db(plugin_peak),
        db(out_peak),
        db(rms),
        head
    );

    assert!(
        max_diff <= 1e-6,
        "plugin and renderer differ by {:.1} dBFS (channel {}, frame {}): plugin {} vs renderer {}{}",
        db(max_diff),
        worst.0,
        worst.1,
        aligned[worst.0][worst.1],
        rendered[worst.0][worst.1],
        match clap_host::src_newer_than_bundle() {
            Some(p) => format!(
                ". {} is newer than the bundle: rebuild it with `cargo xtask bundle lathe --release`",
                p.display()
            ),
            None => String::new(),
        }
    );
    assert!(
        head <= 1e-6,
        "the plugin output something before its reported latency: {head}"
    );

    // Not trivially silent, and the limiter did work: trim and drive push the input's peak
    // over the ceiling, and the output stays under it.
    let ceiling = 10f64.powf(settings.limiter.ceiling_dbtp as f64 / 20.0);
    assert!(
        db(rms) > -40.0,
        "output is nearly silent: {:.1} dBFS RMS",
        db(rms)
    );
    assert!(
        in_peak * 10f64.powf((settings.input.trim_db + settings.limiter.drive_db) as f64 / 20.0)
            > ceiling,
        "this input would not reach the limiter's ceiling; the test proves nothing"
    );
    assert!(
        plugin_peak <= ceiling,
        "plugin output peak {:.3} dBFS is over the {} dBTP ceiling",
        db(plugin_peak),
        settings.limiter.ceiling_dbtp
    );
    assert!(
        plugin_peak > ceiling * 10f64.powf(-1.0 / 20.0),
        "plugin output peak {:.3} dBFS is more than 1 dB under the ceiling: did the limiter over-react?",
        db(plugin_peak)
    );
}

/// The latency the plugin reports is the delay audio really goes through, at other rates too,
/// re-activating the same instance the way a host does when the project rate changes.
#[test]
fn reported_latency_is_the_measured_delay() {
    let mut plugin = Lathe::load();
    for sample_rate in [44_100.0, 96_000.0] {
        plugin.activate(sample_rate, MAX_BLOCK);
        let reported = plugin.latency() as usize;

        let at = 300; // well clear of the first block
        let frames = at + reported + 8192;
        let mut input = vec![vec![0.0f32; frames]; 2];
        input[0][at] = 0.25;
        input[1][at] = 0.25;
        let output = plugin.process(&input, &[], &HOST_BLOCKS);

        for (ch, out) in output.iter().enumerate() {
            let (index, value) = out.iter().enumerate().fold((0, 0.0f32), |best, (i, &s)| {
                if s.abs() > best.1.abs() {
                    (i, s)
                } else {
                    best
                }
            });
            let measured = index as isize - at as isize;
            println!(
                "{sample_rate} Hz ch {ch}: reported latency {reported}, impulse came out {measured} samples late at {value}"
            );
            assert_eq!(
                measured, reported as isize,
                "{sample_rate} Hz, channel {ch}"
            );
            assert!(
                (value - 0.25).abs() < 1e-4,
                "{sample_rate} Hz: the impulse came out as {value}"
            );
        }
        assert!(reported > 0, "{sample_rate} Hz: no latency reported");
    }
    plugin.deactivate();
}

/// Learn in the plugin, then a session save and reload: the reloaded plugin plays the master
/// with the learned gain, sample for sample what the renderer makes of the same gain in a
/// settings file.
#[test]
fn the_learned_gain_survives_a_session_reload() {
    let path = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/vibe-ace_excerpt.flac"
    ));
    let audio = lathe::render::decode::decode_file(path)
        .unwrap_or_else(|e| panic!("decoding {}: {e}", path.display()));
    let rate = audio.sample_rate;
    // Three times through the excerpt, so the learner has program to go on.
    let program: Vec<Vec<f32>> = audio.channels.iter().map(|c| c.repeat(3)).collect();

    // What Learn finds, from the library (block sizes do not matter: it is invariant).
    let mut settings = ChainSettings::default();
    settings.target.learn = true;
    let mut chain = lathe::dsp::Chain::new();
    chain.prepare(rate as f32, MAX_BLOCK as usize);
    let mut meters = lathe::dsp::Meters::default();
    let mut buf = program.clone();
    let (l, r) = buf.split_at_mut(1);
    for (lb, rb) in l[0].chunks_mut(512).zip(r[0].chunks_mut(512)) {
        chain.process(&mut [lb, rb], &settings, &mut meters);
    }
    let learned = meters.learned_gain_db;
    assert!(
        learned > 1.0,
        "the excerpt is under -14 LUFS: Learn should add gain, got {learned}"
    );

    // The plugin learns over the same program, Learn goes off, the host saves the session.
    let mut plugin = Lathe::load();
    plugin.activate(rate as f64, MAX_BLOCK);
    let learn = plugin.param_id("Learn");
    plugin.process(&program, &[(learn, 1.0)], &HOST_BLOCKS);
    plugin.process(&[vec![0.0; 64], vec![0.0; 64]], &[(learn, 0.0)], &[64]);
    let session = plugin.save_state();
    drop(plugin);
    let text = String::from_utf8_lossy(&session);
    assert!(
        text.contains("tg_learned"),
        "the learned gain is not in the state: {text}"
    );

    // A new instance, the session loaded: it plays with the learned gain.
    let mut plugin = Lathe::load();
    plugin.load_state(&session);
    plugin.activate(rate as f64, MAX_BLOCK);
    assert_eq!(
        plugin.param_value(learn),
        0.0,
        "Learn is off in the saved session"
    );
    let latency = plugin.latency() as usize;
    let input: Vec<Vec<f32>> = audio
        .channels
        .iter()
        .map(|c| {
            let mut v = c.clone();
            v.resize(c.len() + latency, 0.0);
            v
        })
        .collect();
    let played = plugin.process(&input, &[], &HOST_BLOCKS);

    let mut offline = ChainSettings::default();
    offline.target.learned_gain_db = learned;
    let rendered = lathe::render::master::master(&audio.channels, rate, &offline, |_| {});
    let max_diff = played
        .iter()
        .zip(&rendered)
        .flat_map(|(p, r)| p[latency..].iter().zip(r).map(|(&a, &b)| (a - b).abs()))
        .fold(0.0f32, f32::max);
    println!(
        "learned {learned:+.3} dB; reloaded plugin vs renderer: max |difference| {max_diff:e}"
    );
    assert!(
        max_diff <= 1e-6,
        "the reloaded plugin does not play the learned gain ({max_diff:e})"
    );
    // And the check can fail: without the learned gain the master is another one.
    let plain =
        lathe::render::master::master(&audio.channels, rate, &ChainSettings::default(), |_| {});
    assert!(plain != rendered);
}
