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
    // The master and its report (with its player's audio), nothing else: no temporary file
    // left behind.
    let mut names: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            // The audio of the report's player.
            "francium_excerpt.report.audio.js",
            "francium_excerpt.report.html",
            "francium_excerpt.report.json",
            "francium_excerpt_48k_24bit.wav",
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

/// A minimal PCM WAV (16-bit stereo, 48 kHz) with the given RIFF, fmt and data sizes, for
/// headers that lie about what follows.
fn wav_with_sizes(riff: u32, fmt: u32, data_len: u32, data: &[u8]) -> Vec<u8> {
    let mut b = b"RIFF".to_vec();
    b.extend_from_slice(&riff.to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&fmt.to_le_bytes());
    for field in [1u16, 2] {
        b.extend_from_slice(&field.to_le_bytes());
    }
    b.extend_from_slice(&48_000u32.to_le_bytes());
    b.extend_from_slice(&(48_000u32 * 4).to_le_bytes());
    for field in [4u16, 16] {
        b.extend_from_slice(&field.to_le_bytes());
    }
    b.extend_from_slice(b"data");
    b.extend_from_slice(&data_len.to_le_bytes());
    b.extend_from_slice(data);
    b
}

/// Hostile and damaged inputs, each built here: every one is refused with a message that
/// names the file and says what is wrong, before an output folder exists.
#[test]
fn bad_inputs_are_refused_by_name_and_nothing_is_written() {
    let out = scratch("bad");
    let write = |name: &str, bytes: &[u8]| {
        let path = out.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    };
    let flac = std::fs::read(data("francium_excerpt.flac")).unwrap();
    let mut damaged = flac.clone();
    for b in &mut damaged[flac.len() / 3..flac.len() / 3 + 64] {
        *b ^= 0xA5;
    }
    let audio: Vec<u8> = (0..4000u32).map(|i| (i * 7) as u8).collect();
    let cases: Vec<(PathBuf, &str)> = vec![
        // Wrong extension: text saved as audio.
        (
            write("notes.wav", b"please make it loud"),
            "unsupported format",
        ),
        (
            write("notes.flac", &b"please make it loud\n".repeat(100)),
            "unsupported format",
        ),
        // Zero-length.
        (write("empty.flac", b""), "the file is empty"),
        (write("empty.wav", b""), "the file is empty"),
        // Truncated: a FLAC cut to half, a WAV cut inside its header.
        (
            write("half.flac", &flac[..flac.len() / 2]),
            "truncated or corrupt",
        ),
        (
            write(
                "cut.wav",
                &wav_with_sizes(36 + 4000, 16, 4000, &audio)[..30],
            ),
            "truncated or corrupt",
        ),
        // Corrupt: 64 bytes of the FLAC's audio scrambled (frame CRCs and the MD5 catch it).
        (write("damaged.flac", &damaged), "truncated or corrupt"),
        // Huge headers: a data chunk of 0xFFFFFFF0 bytes, a fmt chunk claiming 4 GB, with the
        // RIFF size honest and with it claiming 4 GB as well. Refused without reserving the
        // memory the header asks for (the test process would abort if it tried).
        (
            write(
                "huge_data.wav",
                &wav_with_sizes(36 + 4000, 16, 0xFFFF_FFF0, &audio),
            ),
            "truncated or corrupt",
        ),
        (
            write(
                "huge_data_riff.wav",
                &wav_with_sizes(u32::MAX, 16, 0xFFFF_FFF0, &audio),
            ),
            "truncated or corrupt",
        ),
        (
            write(
                "huge_fmt.wav",
                &wav_with_sizes(36 + 4000, 0xFFFF_FFF0, 4000, &audio),
            ),
            "truncated or corrupt",
        ),
        (
            write(
                "huge_fmt_riff.wav",
                &wav_with_sizes(u32::MAX, 0xFFFF_FFF0, 4000, &audio),
            ),
            "truncated or corrupt",
        ),
        // Not a file at all.
        (out.clone(), "not a file"),
        (out.join("missing.wav"), "cannot read"),
    ];
    let out_dir = out.join("masters");
    let before = tree(&out);
    for (bad, what) in &cases {
        let err = render::render(
            &job(bad.clone(), out_dir.clone(), ChainSettings::default()),
            &mut |_, _| {},
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with(&bad.display().to_string()) && msg.contains(what),
            "{}: {msg}",
            bad.display()
        );
    }
    assert!(
        !out_dir.exists(),
        "an output folder was created for a refused input"
    );
    assert_eq!(
        tree(&out),
        before,
        "a refused render changed the input folder"
    );
}

/// A FLAC named `.wav` is still a FLAC: the decoder goes by the content and uses the
/// extension only as a hint, so the mislabelled file renders like the real one.
#[test]
fn a_flac_named_wav_renders_by_its_content() {
    let dir = scratch("mislabelled");
    let mix = dir.join("francium.wav");
    std::fs::copy(data("francium_excerpt.flac"), &mix).unwrap();
    let report = render::render(
        &job(mix, dir.join("out"), ChainSettings::default()),
        &mut |_, _| {},
    )
    .unwrap();
    assert_eq!(report.deliverables.len(), 1);
    let source = decode_file(&data("francium_excerpt.flac")).unwrap();
    assert_eq!(
        decode_file(&report.deliverables[0].path).unwrap().frames(),
        source.frames()
    );
}

/// Every file under `root` with its length and modification time, sorted.
fn tree(root: &Path) -> Vec<(PathBuf, u64, std::time::SystemTime)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            if meta.is_dir() {
                stack.push(path.clone());
            }
            out.push((path, meta.len(), meta.modified().unwrap()));
        }
    }
    out.sort();
    out
}

/// The renderer writes inside `--out` and nowhere else: not beside the mix, not through a
/// symbolic link planted where a deliverable goes, whatever the tags say.
#[cfg(unix)]
#[test]
fn the_renderer_writes_only_inside_its_output_folder() {
    let root = scratch("confined");
    let mixes = root.join("mixes");
    std::fs::create_dir_all(&mixes).unwrap();
    let mix = mixes.join("francium.flac");
    std::fs::copy(data("francium_excerpt.flac"), &mix).unwrap();
    let victim = root.join("victim.wav");
    std::fs::write(&victim, b"not yours to overwrite").unwrap();
    let out_dir = root.join("out");
    std::fs::create_dir_all(&out_dir).unwrap();
    // A title that tries to leave the folder: the files are named after it, made safe.
    let title = "../../victim\0/etc/passwd";
    let stem = lathe::render::naming::master_name(&mix, Some(title));
    assert_eq!(stem, "______victim__etc_passwd");
    let name = Format::Wav {
        rate: 48_000,
        bits: 24,
    }
    .file_name(&stem, 48_000);
    std::os::unix::fs::symlink(&victim, out_dir.join(&name)).unwrap();

    let mut j = job(mix, out_dir.clone(), ChainSettings::default());
    j.formats = vec![
        Format::Wav {
            rate: 48_000,
            bits: 24,
        },
        Format::Flac,
        Format::Mp3,
    ];
    j.force = true;
    j.metadata = lathe::render::Metadata {
        title: Some(title.into()),
        artist: Some("/tmp/x\r\n".into()),
        album: Some("..".into()),
        ..Default::default()
    };
    let before: Vec<_> = tree(&root)
        .into_iter()
        .filter(|(p, ..)| !p.starts_with(&out_dir))
        .collect();
    let report = render::render(&j, &mut |_, _| {}).unwrap();
    let after: Vec<_> = tree(&root)
        .into_iter()
        .filter(|(p, ..)| !p.starts_with(&out_dir))
        .collect();
    assert_eq!(after, before, "something outside --out changed");
    assert_eq!(std::fs::read(&victim).unwrap(), b"not yours to overwrite");
    // The planted link was replaced by the master itself.
    let planted = std::fs::symlink_metadata(out_dir.join(&name)).unwrap();
    assert!(planted.file_type().is_file());
    for d in &report.deliverables {
        assert_eq!(
            d.path.parent(),
            Some(out_dir.as_path()),
            "{}",
            d.path.display()
        );
    }
    let mut names: Vec<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            format!("{stem}.report.audio.js"),
            format!("{stem}.report.html"),
            format!("{stem}.report.json"),
            format!("{stem}_320k.mp3"),
            format!("{stem}_48k_24bit.wav"),
            format!("{stem}_96k_24bit.flac"),
        ]
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
        assert_eq!(checks.len(), 8);
        for c in &checks {
            assert!(c.passed, "{name}: {} — {}", c.name, c.detail);
        }
    }
}

#[test]
fn the_render_reports_its_preflight_findings() {
    use lathe::render::preflight;
    // As cut, the excerpt starts on the music: the leading-silence check must say so.
    let out = scratch("preflight");
    let report = render::render(
        &job(
            data("francium_excerpt.flac"),
            out.clone(),
            ChainSettings::default(),
        ),
        &mut |_, _| {},
    )
    .unwrap();
    let lead = report
        .preflight
        .iter()
        .find(|c| c.name == "leading silence")
        .unwrap();
    assert!(!lead.passed, "{lead:?}");
    // A note, not an alarm: nothing else is found, and the report's pre-flight card is not
    // red.
    assert_eq!(lead.severity, preflight::Severity::Note);
    assert_eq!(
        preflight::worst(&report.preflight),
        preflight::Severity::Note
    );
    let paths = report.report.as_ref().expect("a report");
    let html = std::fs::read_to_string(&paths.html).unwrap();
    let card = html.find("Pre-flight").unwrap();
    let opening = html[..card].rfind("<div class=\"card").unwrap();
    assert!(
        html[opening..card].starts_with("<div class=\"card ok\""),
        "{}",
        &html[opening..card]
    );
    let json = std::fs::read_to_string(&paths.json).unwrap();
    assert!(json.contains("\"severity\": \"note\""), "report.json");
}

#[test]
fn a_lossy_mix_is_mastered_with_a_warning_that_names_its_codec() {
    use lathe::render::preflight;
    let out = scratch("lossy");
    let report = render::render(
        &job(data("vibe-ace_lossy.mp3"), out, ChainSettings::default()),
        &mut |_, _| {},
    )
    .unwrap();
    let codec = report
        .preflight
        .iter()
        .find(|c| c.name == "source codec")
        .unwrap();
    assert_eq!(codec.severity, preflight::Severity::Warning);
    // Encoded at 128 kbps (tests/data/README.md); the file's ID3 tag and LAME frame add a
    // little.
    let kbps: f64 = codec
        .detail
        .strip_prefix("MP3 at about ")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{}", codec.detail));
    assert!((120.0..=140.0).contains(&kbps), "{}", codec.detail);
}

#[test]
fn masters_are_named_after_their_title_and_two_share_a_folder() {
    let out = scratch("titles");
    let mut titled = job(
        data("francium_excerpt.flac"),
        out.clone(),
        ChainSettings::default(),
    );
    titled.metadata.title = Some("Night Drive".into());
    let first = render::render(&titled, &mut |_, _| {}).expect("titled render");
    // A second master in the same folder, without --force: its names are its own.
    let untitled = job(
        data("vibe-ace_excerpt.flac"),
        out.clone(),
        ChainSettings::default(),
    );
    let second = render::render(&untitled, &mut |_, _| {}).expect("second master");
    assert_eq!(
        first.deliverables[0].path,
        out.join("Night Drive_48k_24bit.wav")
    );
    assert_eq!(first.report, Some(titled.report_paths()));
    assert_eq!(second.report, Some(untitled.report_paths()));
    let mut names: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "Night Drive.report.audio.js",
            "Night Drive.report.html",
            "Night Drive.report.json",
            "Night Drive_48k_24bit.wav",
            "vibe-ace_excerpt.report.audio.js",
            "vibe-ace_excerpt.report.html",
            "vibe-ace_excerpt.report.json",
            "vibe-ace_excerpt_48k_24bit.wav",
        ]
    );
    // Each report describes its own master.
    let page = std::fs::read_to_string(out.join("Night Drive.report.html")).unwrap();
    assert!(page.contains("Night Drive_48k_24bit.wav"));
    assert!(!page.contains("vibe-ace_excerpt_48k_24bit.wav"));
    // A title that would leave the folder is made safe, not obeyed.
    let mut hostile = job(
        data("francium_excerpt.flac"),
        out.clone(),
        ChainSettings::default(),
    );
    hostile.metadata.title = Some("../escape".into());
    let r = render::render(&hostile, &mut |_, _| {}).expect("hostile title");
    assert_eq!(r.deliverables[0].path, out.join("___escape_48k_24bit.wav"));
    let _ = std::fs::remove_dir_all(&out);
}
