//! The renderer, end to end on real music from tests/data: what it writes, what it refuses,
//! and that it never loses or half-writes a file.
#![cfg(feature = "render")]

mod common;

use std::path::{Path, PathBuf};

use lathe::dsp::ChainSettings;
use lathe::render::{self, decode::decode_file, Format, RenderError, RenderJob};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// A fresh, empty folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lathe-render-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn loud_settings() -> ChainSettings {
    let mut s = ChainSettings::default();
    s.limiter.drive_db = 8.0;
    s.limiter.ceiling_dbtp = -1.0;
    s
}

/// A render of the settings as they are (no loudness solve) to one 48 kHz / 24-bit WAV, so
/// the file can be compared with the chain's own output.
fn job(mix: PathBuf, out_dir: PathBuf, settings: ChainSettings) -> RenderJob {
    let mut job = RenderJob::new(mix, out_dir, settings);
    job.target_lufs = None;
    job.formats = vec![Format::Wav {
        rate: 48_000,
        bits: 24,
    }];
    job
}

#[test]
fn a_48k_mix_renders_to_a_48k_24_bit_wav_under_the_ceiling() {
    let out = scratch("48k");
    let report = render::render(
        &job(data("francium_excerpt.flac"), out.clone(), loud_settings()),
        &mut |_, _| {},
    )
    .expect("render");
    let d = &report.deliverables[0];
    let written = decode_file(&d.path).unwrap();
    assert_eq!(written.sample_rate, 48_000);
    assert_eq!(written.source.bits_per_sample, Some(24));
    let source = decode_file(&data("francium_excerpt.flac")).unwrap();
    assert_eq!(
        written.frames(),
        source.frames(),
        "latency trimmed, length kept"
    );
    // Measured independently of the report: ebur128 on the decoded file.
    let tp = common::ebur128_true_peak_dbtp(&written.channels, 48_000);
    assert!(tp <= -1.0, "true peak {tp:.3} dBTP");
    assert!(
        tp > -1.5,
        "the limiter should be working near the ceiling: {tp:.3}"
    );
    // The report says what the file measures.
    assert!((d.measurement.true_peak_dbtp - tp).abs() < 1e-6);
    assert!(d.measurement.integrated_lufs > report.source.integrated_lufs + 4.0);
    // The master and its report, nothing else: no temporary file left behind.
    let mut names: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "francium_excerpt_48k_24bit.wav",
            "report.html",
            "report.json"
        ]
    );
}

#[test]
fn a_44k1_mix_is_resampled_and_still_holds_the_ceiling() {
    let out = scratch("44k1");
    let report = render::render(
        &job(data("vibe-ace_excerpt.flac"), out, loud_settings()),
        &mut |_, _| {},
    )
    .expect("render");
    let written = decode_file(&report.deliverables[0].path).unwrap();
    assert_eq!(written.sample_rate, 48_000);
    let source = decode_file(&data("vibe-ace_excerpt.flac")).unwrap();
    let expected_frames = (source.frames() as u64 * 48_000).div_ceil(44_100) as usize;
    assert_eq!(written.frames(), expected_frames);
    let tp = common::ebur128_true_peak_dbtp(&written.channels, 48_000);
    assert!(tp <= -1.0, "true peak {tp:.3} dBTP");
}

#[test]
fn the_master_equals_the_chain_output_quantised_to_24_bits() {
    // No resampling at 48 kHz: the file is the chain's output, aligned, within 24-bit
    // quantisation and dither (2 LSB).
    let out = scratch("exact");
    let settings = loud_settings();
    let report = render::render(
        &job(data("francium_excerpt.flac"), out, settings),
        &mut |_, _| {},
    )
    .unwrap();
    let written = decode_file(&report.deliverables[0].path).unwrap();
    let source = decode_file(&data("francium_excerpt.flac")).unwrap();
    let mastered = render::master::master(&source.channels, 48_000, &settings, |_| {});
    for (c, (w, m)) in written.channels.iter().zip(&mastered).enumerate() {
        let d = common::max_difference_db(w, m);
        assert!(
            d <= 20.0 * (2.0f64 / 8_388_608.0).log10() + 0.01,
            "channel {c}: {d:.1} dBFS"
        );
    }
}

#[test]
fn an_existing_master_is_kept_without_force_and_replaced_with_it() {
    let out = scratch("force");
    let mix = data("vibe-ace_excerpt.flac");
    let first = render::render(
        &job(mix.clone(), out.clone(), ChainSettings::default()),
        &mut |_, _| {},
    )
    .unwrap();
    let path = first.deliverables[0].path.clone();
    std::fs::write(&path, b"the engineer's earlier master").unwrap();
    let err = render::render(
        &job(mix.clone(), out.clone(), loud_settings()),
        &mut |_, _| {},
    )
    .unwrap_err();
    assert!(matches!(err, RenderError::OutputExists { .. }), "{err}");
    assert!(err.to_string().contains("--force"), "{err}");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        b"the engineer's earlier master"
    );
    let mut forced = job(mix, out, loud_settings());
    forced.force = true;
    render::render(&forced, &mut |_, _| {}).unwrap();
    assert!(decode_file(&path).is_ok());
}

#[test]
fn bad_inputs_are_refused_by_name_and_nothing_is_written() {
    let out = scratch("bad");
    let junk = out.join("notes.wav");
    std::fs::write(&junk, b"please make it loud").unwrap();
    let empty = out.join("empty.flac");
    std::fs::write(&empty, b"").unwrap();
    let out_dir = out.join("masters");
    for bad in [
        junk.clone(),
        empty.clone(),
        out.clone(),
        out.join("missing.wav"),
    ] {
        let err = render::render(
            &job(bad.clone(), out_dir.clone(), ChainSettings::default()),
            &mut |_, _| {},
        )
        .unwrap_err();
        assert!(
            err.to_string().contains(&bad.display().to_string()),
            "{err}"
        );
    }
    assert!(
        !out_dir.exists(),
        "an output folder was created for a refused input"
    );
}

#[test]
fn a_settings_file_out_of_range_is_refused_naming_file_and_field() {
    let dir = scratch("settings");
    let path = dir.join("hot.toml");
    std::fs::write(&path, "[limiter]\nceiling_dbtp = 1.5\n").unwrap();
    let err = render::load_settings(&path).unwrap_err().to_string();
    assert!(
        err.contains("hot.toml") && err.contains("limiter.ceiling_dbtp"),
        "{err}"
    );
    std::fs::write(&path, "[limiter]\nceiling_dbtp = -0.5\ndrive_db = 3.0\n").unwrap();
    let s = render::load_settings(&path).unwrap();
    assert_eq!((s.limiter.ceiling_dbtp, s.limiter.drive_db), (-0.5, 3.0));
}

#[test]
fn real_music_driven_hard_stays_under_the_ceiling_per_ebur128() {
    for name in ["francium_excerpt.flac", "vibe-ace_excerpt.flac"] {
        let audio = decode_file(&data(name)).unwrap();
        for (drive_db, ceiling) in [(6.0, -1.0), (12.0, -1.0), (18.0, -0.1), (12.0, -3.0)] {
            let mut s = ChainSettings::default();
            s.limiter.drive_db = drive_db;
            s.limiter.ceiling_dbtp = ceiling;
            let out = render::master::master(&audio.channels, audio.sample_rate, &s, |_| {});
            let tp = common::ebur128_true_peak_dbtp(&out, audio.sample_rate);
            assert!(
                tp <= ceiling as f64,
                "{name}, +{drive_db} dB into {ceiling}: {tp:.3} dBTP"
            );
        }
    }
}

#[test]
fn real_mixes_pass_the_preflight_checks() {
    use lathe::render::{measure::measure, preflight};
    for name in ["francium_excerpt.flac", "vibe-ace_excerpt.flac"] {
        let mut audio = decode_file(&data(name)).unwrap();
        // The excerpts are cut from songs, so they start on the music; a mix as delivered
        // has its leading silence, here half a second.
        let lead = audio.sample_rate as usize / 2;
        for c in &mut audio.channels {
            c.splice(0..0, std::iter::repeat_n(0.0, lead));
        }
        let m = measure(&audio.channels, audio.sample_rate);
        let checks = preflight::check(&audio.channels, audio.sample_rate, &audio.source, &m);
        assert_eq!(checks.len(), 7);
        for c in &checks {
            assert!(c.passed, "{name}: {} — {}", c.name, c.detail);
        }
    }
}

#[test]
fn the_render_reports_its_preflight_findings() {
    // As cut, the excerpt starts on the music: the leading-silence check must say so.
    let out = scratch("preflight");
    let report = render::render(
        &job(data("francium_excerpt.flac"), out, ChainSettings::default()),
        &mut |_, _| {},
    )
    .unwrap();
    let lead = report
        .preflight
        .iter()
        .find(|c| c.name == "leading silence")
        .unwrap();
    assert!(!lead.passed, "{lead:?}");
}
