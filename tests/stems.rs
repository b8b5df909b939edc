//! Stem mastering on a real four-stem set (tests/data/potassium_*.flac, 6.5 s cut from the
//! shared "Potassium" stems): the checks against the mix, the stem stages and the report.
#![cfg(feature = "render")]

use std::path::{Path, PathBuf};

use lathe::dsp::ChainSettings;
use lathe::render::decode::decode_file;
use lathe::render::report::ReportDocument;
use lathe::render::stems::{StemInput, StemRole, StemsJob, StemsSettings};
use lathe::render::{self, Format, RenderError, RenderJob, RenderReport};

const RATE: u32 = 44_100;

/// The null figure of the excerpt, computed outside Lathe: numpy over ffmpeg's f64 decode of
/// the five FLACs, 10·log10(Σ(drums+other+bass+vocals−mix)² / Σ mix²) over both channels
/// (see tests/data/README.md). The full 80 s files measure -120.3 dB (24-bit, within 3 LSB);
/// the excerpts were each rounded to 16 bits, hence the higher floor.
const EXCERPT_NULL_DB: f64 = -81.08;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lathe-stems-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn stem(role: StemRole, file: &str) -> StemInput {
    StemInput {
        role,
        path: data(file),
    }
}

/// The four stems in their roles: drums are rhythm, "other" harmony, bass the low end.
fn all_stems() -> Vec<StemInput> {
    vec![
        stem(StemRole::Rhythm, "potassium_drums.flac"),
        stem(StemRole::Harmony, "potassium_other.flac"),
        stem(StemRole::Low, "potassium_bass.flac"),
        stem(StemRole::Vocal, "potassium_vocals.flac"),
    ]
}

fn write_wav(path: &Path, channels: &[Vec<f32>], rate: u32) {
    let spec = hound::WavSpec {
        channels: channels.len() as u16,
        sample_rate: rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for i in 0..channels[0].len() {
        for c in channels {
            w.write_sample(c[i]).unwrap();
        }
    }
    w.finalize().unwrap();
}

/// One 44.1 kHz / 24-bit WAV, at the settings as they are unless `target` is given.
fn job(mix: PathBuf, out: PathBuf, stems: Option<StemsJob>, target: Option<f64>) -> RenderJob {
    let mut job = RenderJob::new(mix, out, ChainSettings::default());
    job.target_lufs = target;
    job.formats = vec![Format::Wav {
        rate: RATE,
        bits: 24,
    }];
    job.stems = stems;
    job
}

fn stems_job(inputs: Vec<StemInput>) -> StemsJob {
    StemsJob {
        inputs,
        settings: StemsSettings::default(),
        allow_offset: false,
    }
}

fn render_stems(name: &str, stems: StemsJob) -> Result<RenderReport, RenderError> {
    let out = scratch(name);
    render::render(
        &job(data("potassium_mix.flac"), out, Some(stems), None),
        &mut |_, _| {},
    )
}

/// The vocal stem delayed by `offset` samples (early when negative), as a float WAV.
fn shifted_vocal(dir: &Path, offset: i64) -> PathBuf {
    let mut v = decode_file(&data("potassium_vocals.flac"))
        .unwrap()
        .channels;
    lathe::render::stems::align::compensate(&mut v, -offset);
    let path = dir.join(format!("vocal_shifted_{offset}.wav"));
    write_wav(&path, &v, RATE);
    path
}

#[test]
fn every_stem_of_the_excerpt_is_found_aligned() {
    let mix = decode_file(&data("potassium_mix.flac")).unwrap().channels;
    for s in all_stems() {
        let a = decode_file(&s.path).unwrap().channels;
        let found = lathe::render::stems::align::measure_offset(&mix, &a, RATE);
        eprintln!("{:?}: {found:?}", s.role);
        assert_eq!(found.map(|f| f.offset_samples), Some(0), "{:?}", s.role);
    }
}

#[test]
fn a_stem_at_another_rate_is_refused_naming_the_file() {
    let dir = scratch("rate");
    let v = decode_file(&data("potassium_vocals.flac"))
        .unwrap()
        .channels;
    let path = dir.join("vocal_48k.wav");
    write_wav(&path, &v, 48_000);
    let mut inputs = all_stems();
    inputs[3].path = path.clone();
    let err = render_stems("rate-out", stems_job(inputs)).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, RenderError::Stem { .. }), "{text}");
    assert!(text.contains("vocal_48k.wav"), "{text}");
    assert!(
        text.contains("48000 Hz") && text.contains("44100 Hz"),
        "{text}"
    );
}

#[test]
fn a_stem_of_another_length_is_refused_naming_the_file() {
    let dir = scratch("length");
    let mut v = decode_file(&data("potassium_drums.flac")).unwrap().channels;
    let frames = v[0].len();
    for c in &mut v {
        c.truncate(frames - 4410);
    }
    let path = dir.join("drums_short.wav");
    write_wav(&path, &v, RATE);
    let mut inputs = all_stems();
    inputs[0].path = path;
    let out = scratch("length-out");
    let err = render::render(
        &job(
            data("potassium_mix.flac"),
            out.clone(),
            Some(stems_job(inputs)),
            None,
        ),
        &mut |_, _| {},
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("drums_short.wav") && text.contains("rhythm"),
        "{text}"
    );
    assert!(
        text.contains(&format!("{} samples", frames - 4410)) && text.contains(&frames.to_string()),
        "{text}"
    );
    // Refused before anything was written.
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0);
}

#[test]
fn a_shifted_stem_is_found_at_its_offset_and_refused() {
    let dir = scratch("shift");
    for offset in [137i64, -441] {
        let mut inputs = all_stems();
        inputs[3].path = shifted_vocal(&dir, offset);
        let err = render_stems("shift-out", stems_job(inputs)).unwrap_err();
        let text = err.to_string();
        let (n, way) = (offset.abs(), if offset > 0 { "late" } else { "early" });
        assert!(
            text.contains(&format!("{n} samples")) && text.contains(way),
            "{offset}: {text}"
        );
        let ms = offset as f64 * 1000.0 / RATE as f64;
        assert!(text.contains(&format!("{ms:+.2} ms")), "{text}");
        assert!(text.contains("--allow-offset"), "{text}");
    }
    // Two misaligned stems: one error names both.
    let mut inputs = all_stems();
    inputs[3].path = shifted_vocal(&dir, 50);
    let mut h = decode_file(&data("potassium_other.flac")).unwrap().channels;
    lathe::render::stems::align::compensate(&mut h, 20);
    let early = dir.join("harmony_early.wav");
    write_wav(&early, &h, RATE);
    inputs[1].path = early;
    let text = render_stems("shift-out", stems_job(inputs))
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("harmony (") && text.contains("20 samples (-0.45 ms) early"),
        "{text}"
    );
    assert!(
        text.contains("vocal (") && text.contains("50 samples (+1.13 ms) late"),
        "{text}"
    );
}

#[test]
fn allow_offset_compensates_a_shifted_stem() {
    let dir = scratch("allow");
    let mut inputs = all_stems();
    inputs[3].path = shifted_vocal(&dir, 137);
    let report = render_stems(
        "allow-out",
        StemsJob {
            allow_offset: true,
            ..stems_job(inputs.clone())
        },
    )
    .expect("compensated render");
    let st = report.stems.as_ref().unwrap();
    let vocal = st.stems.iter().find(|s| s.role == StemRole::Vocal).unwrap();
    assert_eq!(vocal.offset_samples, Some(137));
    assert!(vocal.offset_compensated);
    assert!((vocal.offset_ms.unwrap() - 137.0 * 1000.0 / 44_100.0).abs() < 1e-9);
    for s in st.stems.iter().filter(|s| s.role != StemRole::Vocal) {
        assert_eq!(s.offset_samples, Some(0), "{:?}", s.role);
    }
    assert!(report
        .warnings
        .iter()
        .any(|w| w.contains("shifted into place")));
    // Shifted back, the stems null against the mix again: only the 137 samples that moved
    // out of the file are missing (the vocal stem is quiet there).
    let compensated = st.null_test.residual_db.unwrap();
    assert!(compensated < -60.0, "null {compensated:.1} dB");
    assert!(st.null_test.passed);
    // Left shifted, the same stems would be far from the mix: the vocal smears.
    let mut shifted = Vec::new();
    for s in &inputs {
        shifted.push(decode_file(&s.path).unwrap().channels);
    }
    let mix = decode_file(&data("potassium_mix.flac")).unwrap().channels;
    let uncompensated = lathe::render::stems::null_residual_db(&mix, &shifted).unwrap();
    assert!(
        uncompensated > compensated + 30.0,
        "{uncompensated:.1} vs {compensated:.1}"
    );
}

#[test]
fn neutral_stem_stages_equal_rendering_the_stem_sum_as_a_mix() {
    // The stem sum, written as a float WAV and rendered as a plain mix...
    let dir = scratch("neutral");
    let stems: Vec<Vec<Vec<f32>>> = all_stems()
        .iter()
        .map(|s| decode_file(&s.path).unwrap().channels)
        .collect();
    let mut sum = vec![vec![0.0f32; stems[0][0].len()]; 2];
    for s in &stems {
        for (o, c) in sum.iter_mut().zip(s) {
            for (o, x) in o.iter_mut().zip(c) {
                *o += x;
            }
        }
    }
    let sum_path = dir.join("stem_sum.wav");
    write_wav(&sum_path, &sum, RATE);
    let target = Some(-14.0);
    let plain = render::render(
        &job(sum_path, dir.join("plain"), None, target),
        &mut |_, _| {},
    )
    .unwrap();
    // ...and the stems through their (neutral) stages, with the same target.
    let staged = render::render(
        &job(
            data("potassium_mix.flac"),
            dir.join("stems"),
            Some(stems_job(all_stems())),
            target,
        ),
        &mut |_, _| {},
    )
    .unwrap();
    let a = decode_file(&plain.deliverables[0].path).unwrap().channels;
    let b = decode_file(&staged.deliverables[0].path).unwrap().channels;
    assert_eq!(a[0].len(), b[0].len());
    let worst = a
        .iter()
        .zip(&b)
        .flat_map(|(x, y)| x.iter().zip(y).map(|(p, q)| (p - q).abs()))
        .fold(0.0f32, f32::max);
    let worst_db = 20.0 * f64::from(worst).max(1e-12).log10();
    assert!(worst_db <= -120.0, "largest difference {worst_db:.1} dBFS");
    // Both renders really mastered something: on target, not silence.
    let l = staged.deliverables[0].measurement.integrated_lufs;
    assert!((l + 14.0).abs() <= 0.1, "{l}");
    let (p, s) = (plain.loudness.unwrap(), staged.loudness.unwrap());
    assert_eq!(p.drive_db, s.drive_db);
}

#[test]
fn the_null_test_figure_matches_an_independent_computation() {
    let report = render_stems("null", stems_job(all_stems())).unwrap();
    let st = report.stems.unwrap();
    let r = st.null_test.residual_db.unwrap();
    // Tolerance: the two computations differ only in summation order and precision
    // (f32 samples summed in f64 here, numpy's f64 there); 0.05 dB is far above that and far
    // below anything that would change the verdict.
    assert!((r - EXCERPT_NULL_DB).abs() < 0.05, "{r:.3} dB");
    assert!(st.null_test.passed);
    assert!(st.mastered_signal.starts_with("stem sum"));
}

#[test]
fn a_missing_stem_fails_the_null_test_with_a_warning() {
    // Without the bass, the sum is far from the mix: warned, and the stems still mastered.
    let mut inputs = all_stems();
    inputs.remove(2);
    let report = render_stems("missing", stems_job(inputs)).unwrap();
    let st = report.stems.unwrap();
    let r = st.null_test.residual_db.unwrap();
    assert!(r > -30.0 && !st.null_test.passed, "{r:.1}");
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.contains("null test") && w.contains("stems")),
        "{:?}",
        report.warnings
    );
    assert_eq!(st.mastered_signal, "stem sum (rhythm + harmony + vocal)");
}

#[test]
fn the_report_carries_each_stems_figures_and_stages_can_be_turned_off() {
    let out = scratch("report");
    let mut settings = StemsSettings::default();
    settings.vocal.gain_db = 3.0;
    // Off: its gain must not count.
    settings.low.enabled = false;
    settings.low.gain_db = -6.0;
    // An EQ cut on the drums lowers their loudness.
    settings.rhythm.eq.low_shelf.gain_db = -6.0;
    let stems = StemsJob {
        settings,
        ..stems_job(all_stems())
    };
    let report = render::render(
        &job(data("potassium_mix.flac"), out.clone(), Some(stems), None),
        &mut |_, _| {},
    )
    .unwrap();
    let json = std::fs::read_to_string(out.join("potassium_mix.report.json")).unwrap();
    let doc = ReportDocument::from_json(&json).unwrap();
    let st = doc.stems.expect("stems in report.json");
    assert_eq!(Some(&st), report.stems.as_ref());
    assert_eq!(st.stems.len(), 4);
    let by = |r: StemRole| st.stems.iter().find(|s| s.role == r).unwrap();
    let (vocal, low, rhythm, harmony) = (
        by(StemRole::Vocal),
        by(StemRole::Low),
        by(StemRole::Rhythm),
        by(StemRole::Harmony),
    );
    // A gain moves the stem's loudness by itself, to within the meter's rounding.
    let moved =
        |s: &lathe::render::stems::StemRecord| s.lufs_after.unwrap() - s.lufs_before.unwrap();
    assert!((moved(vocal) - 3.0).abs() < 0.01, "{}", moved(vocal));
    assert_eq!((vocal.gain_db, vocal.stage_active), (3.0, true));
    assert_eq!(moved(low), 0.0);
    assert!(!low.stage_enabled && !low.stage_active && low.gain_db == 0.0);
    assert!(
        moved(rhythm) < -0.2 && moved(rhythm) > -6.0,
        "{}",
        moved(rhythm)
    );
    assert_eq!(moved(harmony), 0.0);
    // Loudness of each stem alone, as ffmpeg's ebur128 measures the excerpts (to its 0.1 LU
    // display): drums -25.4, other -28.4, bass -15.4, vocals -22.9 LUFS (excerpt of 7 s;
    // 6.5 s files here, so within 0.3 LU).
    for (s, ffmpeg) in [
        (rhythm, -25.4),
        (harmony, -28.4),
        (low, -15.4),
        (vocal, -22.9),
    ] {
        let l = s.lufs_before.unwrap();
        assert!((l - ffmpeg).abs() < 0.3, "{:?}: {l:.2}", s.role);
    }
    type Share = fn(&lathe::render::stems::StemRecord) -> Option<f64>;
    let shares: [Share; 2] = [|s| s.share_before_pct, |s| s.share_after_pct];
    for share in shares {
        let total: f64 = st.stems.iter().map(|s| share(s).unwrap()).sum();
        assert!((total - 100.0).abs() < 1e-9);
    }
    assert!(vocal.share_after_pct > vocal.share_before_pct);
    assert!(st.stems.iter().all(|s| s.offset_samples == Some(0)));
    assert!(st
        .stems
        .iter()
        .all(|s| s.peak_prominence.unwrap() >= lathe::render::stems::align::MIN_PROMINENCE));
    assert!(st.null_test.residual_db.is_some());
    assert!(st.checks.iter().any(|c| c.name == "null test"));
    assert!(
        st.checks
            .iter()
            .filter(|c| c.name.ends_with("alignment"))
            .count()
            == 4
    );
    let html = std::fs::read_to_string(out.join("potassium_mix.report.html")).unwrap();
    assert!(html.contains("<h2>Stems</h2>"));
    let null = format!("{:.1} dB", st.null_test.residual_db.unwrap());
    assert!(html.contains(&null), "{null}");
    assert!(html.contains("potassium_vocals.flac"));
    assert!(html.contains("+3.0 dB"));
}
