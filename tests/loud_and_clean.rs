//! Loud and clean: the renderer limits only where the ceiling demands it, reaches club
//! loudness with its default settings, and delivers every rate on target. On the real
//! excerpts in tests/data; the figures against ffmpeg's peers are `cargo xtask bench-quality`.
#![cfg(feature = "render")]

mod common;

use std::path::{Path, PathBuf};

use lathe::dsp::settings::LimiterStyle;
use lathe::dsp::ChainSettings;
use lathe::render::quality::{fast_residual_db, judge, true_peak_16x_dbtp};
use lathe::render::{self, decode::decode_file, Format, RenderJob};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lathe-loud-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn integrated_lufs(channels: &[Vec<f32>], rate: u32) -> f64 {
    let planar: Vec<&[f32]> = channels.iter().map(|c| &c[..]).collect();
    let mut m = ebur128::EbuR128::new(planar.len() as u32, rate, ebur128::Mode::I).unwrap();
    m.add_frames_planar_f32(&planar).unwrap();
    m.loudness_global().unwrap()
}

/// Renders `mix` to one 24-bit WAV at its own rate at `target_lufs`.
fn master(
    mix: &Path,
    settings: ChainSettings,
    target_lufs: f64,
    name: &str,
) -> (render::RenderReport, Vec<Vec<f32>>) {
    let rate = decode_file(mix).unwrap().sample_rate;
    let mut job = RenderJob::new(mix, scratch(name), settings);
    job.target_lufs = Some(target_lufs);
    job.formats = vec![Format::Wav { rate, bits: 24 }];
    let report = render::render(&job, &mut |_, _| {}).expect("render");
    let back = decode_file(&report.deliverables[0].path).unwrap();
    (report, back.channels)
}

/// A hot mix (the Potassium mix peaks at -0.2 dBTP at -15 LUFS) rendered quieter comes out
/// as the mix times one gain: no limiting, a fast residual against the gain-matched mix far
/// under anything audible (the 24-bit dither is about -120 dB re the music), and its true
/// peak moved by exactly that gain. Before the gain went in front of the limiter, the
/// limiter squashed the mix to -1 dBTP first and the output gain then turned it down.
#[test]
fn a_mix_that_only_needs_turning_down_is_only_turned_down() {
    let mix_path = data("potassium_mix.flac");
    let mix = decode_file(&mix_path).unwrap();
    let rate = mix.sample_rate;
    let mix_tp = true_peak_16x_dbtp(&mix.channels);
    assert!(
        mix_tp > -1.0,
        "the test needs a mix over the ceiling: {mix_tp}"
    );
    for target in [-18.0, -23.0] {
        let (report, out) = master(&mix_path, ChainSettings::default(), target, "down");
        let loudness = report.loudness.unwrap();
        assert_eq!(loudness.peak_limiting_db, 0.0, "{loudness:?}");
        assert!(loudness.gain_db < -2.0, "{loudness:?}");
        let x: Vec<&[f32]> = mix.channels.iter().map(|c| &c[..]).collect();
        let y: Vec<&[f32]> = out.iter().map(|c| &c[..]).collect();
        let residual = fast_residual_db(&x, &y, rate);
        let gain_db = integrated_lufs(&out, rate) - integrated_lufs(&mix.channels, rate);
        let tp = true_peak_16x_dbtp(&out);
        println!(
            "{target} LUFS: gain {gain_db:.3} dB, fast residual {residual:.1} dB, true peak \
             {mix_tp:.3} -> {tp:.3} dBTP"
        );
        assert!(residual < -100.0, "{target}: {residual}");
        assert!(
            (tp - (mix_tp + gain_db)).abs() < 0.01,
            "{target}: {tp} vs {mix_tp} + {gain_db}"
        );
    }
}

/// Where the target needs limiting, the master's true peak sits at the ceiling: within 0.1 dB
/// under it on a 16x check, never over it on the renderer's meter.
#[test]
fn a_limited_master_reaches_its_ceiling() {
    for (mix, ceiling) in [
        ("francium_excerpt.flac", -1.0),
        ("vibe-ace_excerpt.flac", -1.0),
        ("francium_excerpt.flac", -2.0),
    ] {
        let mut settings = ChainSettings::default();
        settings.limiter.ceiling_dbtp = ceiling;
        let (report, out) = master(&data(mix), settings, -12.0, "ceiling");
        assert!(report.loudness.unwrap().peak_limiting_db < -1.0, "{mix}");
        let tp = true_peak_16x_dbtp(&out);
        let metered = report.deliverables[0].measurement.true_peak_dbtp;
        println!("{mix} at {ceiling} dBTP: 16x {tp:.3}, ebur128 {metered:.3} dBTP");
        assert!(tp >= ceiling as f64 - 0.1, "{mix}: {tp}");
        assert!(metered <= ceiling as f64, "{mix}: {metered}");
    }
}

/// With default settings, club loudness is in reach: -9 LUFS on every excerpt and -7 on the
/// electronic and garage ones, within ±0.1 LU, with no true-peak over on a 16x check. (With
/// the 1.5 s automatic release and no clipper Lathe had before, 17 dB of drive reached only
/// -10.4 LUFS on the electronic mix.)
#[test]
fn club_loudness_is_reached_with_default_settings() {
    for (mix, target) in [
        ("francium_excerpt.flac", -9.0),
        ("francium_excerpt.flac", -7.0),
        ("by-product_excerpt.flac", -9.0),
        ("by-product_excerpt.flac", -7.0),
        ("vibe-ace_excerpt.flac", -9.0),
        ("potassium_mix.flac", -9.0),
    ] {
        let (report, out) = master(&data(mix), ChainSettings::default(), target, "club");
        let rate = report.deliverables[0].measurement.sample_rate;
        let lufs = integrated_lufs(&out, rate);
        let tp = true_peak_16x_dbtp(&out);
        println!("{mix} at {target}: {lufs:.3} LUFS, {tp:.3} dBTP (16x)");
        assert!(report.loudness.unwrap().reached, "{mix} {target}");
        assert!((lufs - target).abs() <= 0.1, "{mix}: {lufs} for {target}");
        assert!(tp <= -1.0, "{mix} at {target}: {tp} dBTP");
    }
}

/// What the transient clipper is for: at -9 LUFS on the garage excerpt, the Balanced style
/// moves the level around less than the limiter alone (Transparent) and leaves less fast
/// residual, both measured as quality_eval.py does against the mix.
#[test]
fn the_clipper_pumps_less_than_the_limiter_alone_at_club_loudness() {
    let mix_path = data("francium_excerpt.flac");
    let mix = decode_file(&mix_path).unwrap();
    let mut figures = Vec::new();
    for style in [LimiterStyle::Transparent, LimiterStyle::Balanced] {
        let mut settings = ChainSettings::default();
        settings.limiter.style = style;
        let (_, out) = master(&mix_path, settings, -9.0, "styles");
        let q = judge(&mix.channels, &out, mix.sample_rate);
        println!(
            "{}: pumping {:.2} LU, fast residual {:.1} dB",
            style.name(),
            q.pumping_lu,
            q.fast_residual_db
        );
        figures.push(q);
    }
    assert!(figures[1].pumping_lu < figures[0].pumping_lu, "{figures:?}");
    assert!(
        figures[1].fast_residual_db < figures[0].fast_residual_db,
        "{figures:?}"
    );
}

/// A 24-bit WAV of a full-scale square wave (its harmonics reach far past 22 kHz) and a
/// 19 kHz tone at `rate`.
fn square_and_tone(path: &Path, rate: u32) {
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: rate,
        bits_per_sample: 24,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    let full = (1 << 23) - 1;
    for n in 0..rate as usize * 8 {
        let t = n as f64 / rate as f64;
        let square = if (t * 441.0).fract() < 0.5 { 0.8 } else { -0.8 };
        let tone = 0.2 * (2.0 * std::f64::consts::PI * 19_000.0 * t).sin();
        let v = ((square + tone) * full as f64).round() as i32;
        w.write_sample(v).unwrap();
        w.write_sample(v).unwrap();
    }
    w.finalize().unwrap();
}

/// Every deliverable holds the target at its own rate, even when the mix has energy above
/// the lower rate's Nyquist frequency, which BS.1770 counts at 48 or 96 kHz and a conversion
/// to 44.1 kHz removes (0.18 LU of this signal at 48 kHz, before each rate was trimmed).
#[test]
fn every_rate_is_on_target_when_the_mix_has_energy_above_its_nyquist_frequency() {
    for rate in [48_000, 96_000] {
        let dir = scratch(&format!("nyquist-{rate}"));
        let mix = dir.join("square.wav");
        square_and_tone(&mix, rate);
        let mut job = RenderJob::new(&mix, dir.join("out"), ChainSettings::default());
        job.formats = render::formats::parse_formats("wav44-16,wav44-24,wav48-24,mp3").unwrap();
        let report = render::render(&job, &mut |_, _| {}).expect("render");
        assert_eq!(report.deliverables.len(), 4);
        for d in &report.deliverables {
            let back = decode_file(&d.path).unwrap();
            let lufs = integrated_lufs(&back.channels, back.sample_rate);
            let tp = common::ebur128_true_peak_dbtp(&back.channels, back.sample_rate);
            println!(
                "{rate} Hz mix -> {}: {lufs:.3} LUFS, {tp:.3} dBTP",
                d.format
            );
            assert!((lufs + 14.0).abs() <= 0.1, "{rate} -> {}: {lufs}", d.format);
            assert!(tp <= -1.0, "{rate} -> {}: {tp}", d.format);
        }
    }
}
