//! Reference matching and the tonal-balance assistant (issue 5, items 2, 3 and their part of
//! 5), on real music from tests/data: francium_excerpt matched against by-product_excerpt
//! (the shared pair of the goal), and against vibe-ace_excerpt (44.1 kHz), so two
//! rates compare in Hz.
#![cfg(feature = "render")]

mod common;

use std::path::{Path, PathBuf};

use lathe::dsp::eq::match_curve::{MatchEq, MatchEqSettings, MATCH_BELLS, SIDE_BANDS};
use lathe::dsp::ChainSettings;
use lathe::render::decode::{decode_file, DecodedAudio};
use lathe::render::reference::{self, assist, ReferenceOptions, CURVE_LIMIT_DB};
use lathe::render::{self, report::ReportDocument, Format, RenderJob};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn load(name: &str) -> DecodedAudio {
    decode_file(&data(name)).expect("test data decodes")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lathe-reference-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// francium against `reference` at `amount_pct`: the matching and the settings it fitted.
fn matched_with(reference: &str, amount_pct: f32) -> (reference::Matching, MatchEqSettings) {
    let mix = load("francium_excerpt.flac");
    let refr = load(reference);
    let mut s = MatchEqSettings::default();
    let m = reference::prepare(
        &mix.channels,
        &refr.channels,
        mix.sample_rate,
        refr.sample_rate,
        amount_pct,
        &mut s,
    );
    (m, s)
}

fn matched(amount_pct: f32) -> (reference::Matching, MatchEqSettings) {
    matched_with("by-product_excerpt.flac", amount_pct)
}

fn in_band(f: f64) -> bool {
    (40.0..=16_000.0).contains(&f)
}

/// RMS over 40 Hz–16 kHz of `got(f) - want`, dB.
fn rms_error(points: &[(f64, f64)], got: impl Fn(f64) -> f64) -> f64 {
    let e: Vec<f64> = points
        .iter()
        .filter(|p| in_band(p.0))
        .map(|&(f, w)| got(f) - w)
        .collect();
    (e.iter().map(|x| x * x).sum::<f64>() / e.len() as f64).sqrt()
}

#[test]
fn the_fitted_sections_reproduce_the_wanted_curve() {
    let (m, s) = matched(100.0);
    let wanted: Vec<(f64, f64)> = m
        .record
        .curve
        .iter()
        .map(|p| (p.freq_hz, p.wanted_db))
        .collect();
    // magnitude_db is the product of the very biquads the stage runs.
    let mid = rms_error(&wanted, |f| {
        f64::from(MatchEq::magnitude_db(&s, 48_000.0, f as f32))
    });
    // The wanted curve is smoothed (0.5 octave, wider in the bass) and no steeper than
    // 0.6 dB per 1/6 octave, so the sections follow it closely. Measured: 0.12 dB RMS (it
    // was 1.70 dB when the curve held the 5.5 s reference's notes).
    assert!(mid < 0.3, "mid fit {mid:.2} dB RMS");
    // Averaged over third octaves (adjacent sixth-octave pairs) the fit is much closer.
    let third: Vec<f64> = wanted
        .chunks(2)
        .filter(|c| c.len() == 2 && in_band(c[0].0))
        .map(|c| {
            let g = |f: f64| f64::from(MatchEq::magnitude_db(&s, 48_000.0, f as f32));
            0.5 * (g(c[0].0) + g(c[1].0)) - 0.5 * (c[0].1 + c[1].1)
        })
        .collect();
    let third_rms = (third.iter().map(|x| x * x).sum::<f64>() / third.len() as f64).sqrt();
    // Measured: 0.06 dB RMS.
    assert!(third_rms < 0.15, "third-octave fit {third_rms:.2} dB RMS");
    let side: Vec<(f64, f64)> = m
        .record
        .curve
        .iter()
        .map(|p| (p.freq_hz, p.side_wanted_db))
        .collect();
    let side_err = rms_error(&side, |f| {
        f64::from(MatchEq::side_magnitude_db(&s, 48_000.0, f as f32))
    });
    // Octave-spaced side bells: the width is matched in broad strokes. Measured: 1.97 dB RMS
    // (the bells below 300 Hz may only narrow, issue 16).
    assert!(side_err < 2.1, "side fit {side_err:.2} dB RMS");
    eprintln!("fit: mid {mid:.2}, mid third-octave {third_rms:.2}, side {side_err:.2} dB RMS");
}

#[test]
fn the_curve_is_limited_to_6_db_and_the_amount_scales_it() {
    // Against vibe-ace at 44.1 kHz: the spectra compare in Hz across the two rates.
    let (m, full) = matched_with("vibe-ace_excerpt.flac", 100.0);
    for p in &m.record.curve {
        assert!(p.wanted_db.abs() <= CURVE_LIMIT_DB, "{p:?}");
        assert!(p.side_wanted_db.abs() <= CURVE_LIMIT_DB, "{p:?}");
    }
    // The limit bites on this pair (vibe-ace has far less low end than francium).
    assert!(m
        .record
        .curve
        .iter()
        .any(|p| p.wanted_db.abs() == CURVE_LIMIT_DB));
    let mut worst: f64 = 0.0;
    for pct in [0.0f32, 35.0, 70.0] {
        let scaled = MatchEqSettings {
            amount_pct: pct,
            ..full
        };
        for p in m.record.curve.iter().filter(|p| in_band(p.freq_hz)) {
            let f = p.freq_hz as f32;
            let at_full = f64::from(MatchEq::magnitude_db(&full, 48_000.0, f));
            let got = f64::from(MatchEq::magnitude_db(&scaled, 48_000.0, f));
            worst = worst.max((got - at_full * f64::from(pct) / 100.0).abs());
            if pct == 0.0 {
                assert_eq!(got, 0.0, "amount 0 is off");
            }
        }
    }
    // Constant-Q sections: the dB response is nearly linear in the dB gain. Measured 0.2 dB.
    assert!(worst < 0.35, "amount scaling off by {worst:.3} dB");
    // The record's applied curve is the fitted one at the amount.
    let (m70, s70) = matched_with("vibe-ace_excerpt.flac", 70.0);
    for p in &m70.record.curve {
        let expect = f64::from(MatchEq::magnitude_db(&s70, 48_000.0, p.freq_hz as f32));
        assert!((p.applied_db - expect).abs() < 1e-6);
    }
    assert_eq!(s70.amount_pct, 70.0);
}

#[test]
fn matching_a_file_to_itself_gives_a_flat_curve() {
    let mix = load("francium_excerpt.flac");
    let mut s = MatchEqSettings::default();
    let m = reference::prepare(
        &mix.channels,
        &mix.channels,
        mix.sample_rate,
        mix.sample_rate,
        100.0,
        &mut s,
    );
    for p in &m.record.curve {
        assert!(p.applied_db.abs() <= 0.1, "{p:?}");
        assert!(p.side_applied_db.abs() <= 0.1, "{p:?}");
    }
    assert!(m.record.distance_before_db.unwrap() < 1e-9);
}

/// Renders francium against by-product at `amount_pct` to one WAV with the loudness solve,
/// returning the report as written to disk.
fn render_matched(name: &str, amount_pct: f32) -> (ReportDocument, PathBuf) {
    let out = scratch(name);
    let mut job = RenderJob::new(
        data("francium_excerpt.flac"),
        out.clone(),
        ChainSettings::default(),
    );
    job.formats = vec![Format::Wav {
        rate: 48_000,
        bits: 24,
    }];
    let mut options = ReferenceOptions::new(data("by-product_excerpt.flac"));
    options.amount_pct = amount_pct;
    job.reference = Some(options);
    let report = render::render(&job, &mut |_, _| {}).expect("render");
    let paths = report.report.clone().expect("a report");
    assert_eq!(paths, job.report_paths());
    let text = std::fs::read_to_string(&paths.json).unwrap();
    let doc = ReportDocument::from_json(&text).unwrap();
    assert_eq!(doc.reference, report.reference);
    (doc, out)
}

#[test]
fn the_distance_to_the_reference_falls_and_the_targets_still_hold() {
    for (amount, least_fall_pct) in [(100.0, 18.0), (70.0, 13.0)] {
        let (doc, out) = render_matched(&format!("fall{amount}"), amount);
        let r = doc.reference.as_ref().unwrap();
        let (before, after) = (r.distance_before_db.unwrap(), r.distance_after_db.unwrap());
        let fall = r.distance_fall_pct.unwrap();
        eprintln!("{amount} %: {before:.2} dB -> {after:.2} dB ({fall:.0} % less)");
        // Measured on these excerpts: 100 % takes 21 % of the distance away, 70 % 16 %.
        // Before issue 16 it was 41 % and 31 %, by copying the 5.5 s reference's notes: the
        // smoothing, the ±6 dB per section and the mono-safe bass give that up on purpose
        // (the full files: tests/benches/reference_match.py).
        assert!(
            fall >= least_fall_pct,
            "{amount} %: {before:.2} -> {after:.2} dB"
        );
        let d = &doc.deliverables[0];
        let lufs = d.measurement.integrated_lufs.unwrap();
        assert!((lufs + 14.0).abs() <= 0.1, "{lufs} LUFS");
        assert!(d.measurement.true_peak_dbtp.unwrap() <= -1.0);
        // The settings the master was made with carry the curve and read back.
        let settings_file = format!("francium_excerpt.{}", reference::SETTINGS_NAME);
        let back = render::load_settings(&out.join(settings_file)).unwrap();
        assert_eq!(back.match_eq, doc.settings.match_eq);
        assert_eq!(back.match_eq.amount_pct, amount);
        assert_eq!(r.mid_sections.len(), MATCH_BELLS + 2);
        assert_eq!(r.side_sections.len(), SIDE_BANDS);
        let html = std::fs::read_to_string(out.join("francium_excerpt.report.html")).unwrap();
        assert!(html.contains("Reference matching") && html.contains("Fitted sections"));
        // Issue 16: report.json carries the smoothing, the neighbour step and the low-band
        // correlations; the master's bass is no less correlated than the mix's; the html
        // says what changed per region and folds the tables away.
        assert_eq!(r.smoothing_oct, 0.5);
        eprintln!(
            "{amount} %: neighbour step {:.2} dB (100 %: {:.2} dB), correlation below 150 Hz \
             {:?} -> {:?}",
            r.max_neighbour_step_db,
            r.max_neighbour_step_full_db,
            r.low_band_correlation_mix,
            r.low_band_correlation_master
        );
        assert!(r.max_neighbour_step_full_db <= 1.0);
        let (c_mix, c_master) = (
            r.low_band_correlation_mix.unwrap(),
            r.low_band_correlation_master.unwrap(),
        );
        assert!(c_master >= c_mix, "{c_mix} -> {c_master}");
        let sentences = reference::summary::sentences(r);
        assert_eq!(sentences.len(), 4);
        for (line, region) in sentences.iter().zip(["Low end", "Mids", "Top", "Width"]) {
            assert!(line.starts_with(region), "{line}");
            assert!(
                html.contains(&lathe::render::report::html::escape(line)),
                "{line}"
            );
            eprintln!("  {line}");
        }
        assert!(html.contains("<details>\n<summary>Fitted sections</summary>"));
        assert!(html.contains("<details>\n<summary>Curve per 1/6-octave band</summary>"));
        let _ = std::fs::remove_dir_all(&out);
    }
}

#[test]
fn amount_zero_renders_exactly_as_without_a_reference() {
    let (doc, out) = render_matched("off", 0.0);
    let r = doc.reference.unwrap();
    assert!(r.mid_sections.iter().all(|s| s.applied_db == 0.0));
    assert!(r.curve.iter().all(|p| p.applied_db == 0.0));
    let with = decode_file(Path::new(&doc.deliverables[0].path)).unwrap();
    let plain = scratch("plain");
    let mut job = RenderJob::new(
        data("francium_excerpt.flac"),
        plain.clone(),
        ChainSettings::default(),
    );
    job.formats = vec![Format::Wav {
        rate: 48_000,
        bits: 24,
    }];
    let report = render::render(&job, &mut |_, _| {}).unwrap();
    let without = decode_file(&report.deliverables[0].path).unwrap();
    assert_eq!(with.channels, without.channels);
    let _ = std::fs::remove_dir_all(&out);
    let _ = std::fs::remove_dir_all(&plain);
}

#[test]
fn the_assistant_moves_at_most_3_db_and_its_settings_read_back() {
    for (name, amount) in [
        ("vibe-ace_excerpt.flac", 100.0f32),
        ("francium_excerpt.flac", 50.0),
    ] {
        let out = scratch(&format!("assist-{amount}"));
        let mut job = RenderJob::new(data(name), out.clone(), ChainSettings::default());
        job.formats = vec![Format::Wav {
            rate: 44_100,
            bits: 16,
        }];
        job.assist_pct = Some(amount);
        let report = render::render(&job, &mut |_, _| {}).expect("render");
        let a = report.assist.as_ref().unwrap();
        assert_eq!(a.moves.len(), 5);
        for m in &a.moves {
            assert!(m.suggested_db.abs() <= 3.0, "{m:?}");
            assert!(m.move_db.abs() <= 3.0 * amount / 100.0 + 1e-6, "{m:?}");
            assert!((m.after_db - m.before_db - m.move_db).abs() < 1e-6);
        }
        eprintln!(
            "{name}: {:.0} % outside, moves {:?}",
            100.0 * a.outside_fraction,
            a.moves.iter().map(|m| m.move_db).collect::<Vec<_>>()
        );
        // Written into the settings the render used, and readable through --settings.
        let stem = name.trim_end_matches(".flac");
        let path = out.join(format!("{stem}.{}", assist::SETTINGS_NAME));
        assert_eq!(a.settings_file, format!("{stem}.settings.assisted.toml"));
        let back = render::load_settings(&path).expect("settings.assisted.toml reads back");
        assert_eq!(back.eq, report.settings.eq);
        assert_eq!(back.eq.low_shelf.gain_db, a.moves[0].after_db);
        assert_eq!(back.eq.high_shelf.gain_db, a.moves[4].after_db);
        let json = std::fs::read_to_string(out.join(format!("{stem}.report.json"))).unwrap();
        let doc = ReportDocument::from_json(&json).unwrap();
        assert_eq!(doc.assist.as_ref(), Some(a));
        let _ = std::fs::remove_dir_all(&out);
    }
}

#[test]
fn the_assistant_takes_back_a_lifted_top_and_amount_zero_is_off() {
    let mix = load("francium_excerpt.flac");
    let rate = mix.sample_rate;
    let mut bright = ChainSettings::default();
    bright.eq.high_shelf.freq_hz = 4_000.0;
    bright.eq.high_shelf.gain_db = 12.0;
    bright.input.trim_db = -12.0;
    let brightened = common::run_chain(&mix.channels, rate as f32, &bright);
    let mut eq = ChainSettings::default().eq;
    let plain = assist::suggest(&mix.channels, rate, &mut eq.clone(), 100.0);
    let lifted = assist::suggest(&brightened, rate, &mut eq, 100.0);
    let hs = |r: &assist::AssistRecord| r.moves[4].suggested_db;
    eprintln!(
        "high shelf: plain {:+.2}, brightened {:+.2} dB",
        hs(&plain),
        hs(&lifted)
    );
    // 12 dB more top end: the assistant takes the high shelf down, where it lifted it before.
    assert!(hs(&lifted) < 0.0 && hs(&lifted) < hs(&plain) - 1.0);
    let mut eq0 = ChainSettings::default().eq;
    let off = assist::suggest(&brightened, rate, &mut eq0, 0.0);
    assert!(off.moves.iter().all(|m| m.move_db == 0.0));
    assert_eq!(eq0, ChainSettings::default().eq);
}

mod contracts {
    use super::common::*;
    use lathe::dsp::eq::match_curve::{MatchEq, MatchEqSettings};

    fn curve() -> MatchEqSettings {
        let mut s = MatchEqSettings {
            amount_pct: 90.0,
            low_shelf_db: -3.0,
            high_shelf_db: 4.0,
            ..Default::default()
        };
        for (i, g) in s.bells_db.iter_mut().enumerate() {
            *g = 5.0 * (i as f32 * 0.9).cos();
        }
        for (i, g) in s.side_db.iter_mut().enumerate() {
            *g = if i % 2 == 0 { 4.0 } else { -3.0 };
        }
        s
    }

    fn run(
        input: &[Vec<f32>],
        rate: f32,
        blocks: &[usize],
        settings: &[MatchEqSettings],
    ) -> Vec<Vec<f32>> {
        let mut eq = MatchEq::new(rate, 2);
        let mut out = input.to_vec();
        let frames = out[0].len();
        let (mut start, mut k) = (0, 0);
        while start < frames {
            // Settings change every 4096 samples, wherever the blocks fall.
            let next_change = (start / 4096 + 1) * 4096;
            let end = (start + blocks[k % blocks.len()])
                .min(frames)
                .min(next_change);
            let s = settings[(start / 4096) % settings.len()];
            let mut block: Vec<&mut [f32]> = out.iter_mut().map(|c| &mut c[start..end]).collect();
            eq.process(&mut block, &s);
            start = end;
            k += 1;
        }
        out
    }

    #[test]
    fn any_block_split_gives_the_same_samples_while_the_curve_moves() {
        for rate in [44_100.0f32, 192_000.0] {
            let input = music_like(40_000, rate, 0.8, 11);
            // The amount changes every 4096 samples, so the sections glide mid-block.
            let mut other = curve();
            other.amount_pct = 20.0;
            let settings = [curve(), other, MatchEqSettings::default()];
            let whole = run(&input, rate, &[40_000], &settings);
            for blocks in [vec![1usize], vec![7, 64, 1000], vec![8192, 3]] {
                assert_eq!(
                    run(&input, rate, &blocks, &settings),
                    whole,
                    "{rate} {blocks:?}"
                );
            }
            let mono = run(&input[..1], rate, &[40_000], &settings);
            assert_eq!(run(&input[..1], rate, &[5, 333], &settings), mono);
        }
    }

    #[test]
    fn a_flat_or_zero_amount_curve_is_bit_transparent_with_no_latency() {
        let input = music_like(20_000, 48_000.0, 0.9, 5);
        let off = MatchEqSettings {
            amount_pct: 0.0,
            ..curve()
        };
        for s in [MatchEqSettings::default(), off] {
            assert_eq!(run(&input, 48_000.0, &[512], &[s]), input);
        }
        assert_eq!(MatchEq::new(48_000.0, 2).latency_samples(), 0);
        // Minimum phase: an impulse's response starts at once, at sample 0.
        let mut imp = vec![vec![0.0f32; 4096], vec![0.0f32; 4096]];
        imp[0][0] = 1.0;
        imp[1][0] = 1.0;
        let out = run(&imp, 48_000.0, &[4096], &[curve()]);
        assert!(out[0][0].abs() > 0.1, "{}", out[0][0]);
    }

    #[test]
    fn hostile_input_gives_finite_output_and_clean_state() {
        let mut eq = MatchEq::new(48_000.0, 2);
        let s = curve();
        let mut l: Vec<f32> = (0..4096)
            .map(|i| if i % 100 == 0 { 1e30 } else { 1e-39 })
            .collect();
        let mut r = l.clone();
        // The chain's door clips and sanitises before the EQ; the stage itself must stay finite
        // on what the door lets through: full scale and subnormals.
        for v in l.iter_mut().chain(r.iter_mut()) {
            *v = v.clamp(-1e6, 1e6);
        }
        eq.process(&mut [&mut l, &mut r], &s);
        assert!(l.iter().chain(&r).all(|v| v.is_finite()));
        let mut quiet = vec![0.0f32; 48_000];
        let mut quiet_r = quiet.clone();
        eq.process(&mut [&mut quiet, &mut quiet_r], &s);
        assert!(!eq.has_subnormal_state());
        assert!(quiet.iter().all(|v| v.is_finite() && !v.is_subnormal()));
    }
}

#[test]
fn target_reference_takes_the_reference_loudness() {
    let out = scratch("target-reference");
    let mut job = RenderJob::new(
        data("francium_excerpt.flac"),
        out.clone(),
        ChainSettings::default(),
    );
    job.formats = vec![Format::Wav {
        rate: 48_000,
        bits: 24,
    }];
    let mut options = ReferenceOptions::new(data("by-product_excerpt.flac"));
    options.target_from_reference = true;
    job.reference = Some(options);
    let report = render::render(&job, &mut |_, _| {}).expect("render");
    let r = report.reference.as_ref().unwrap();
    assert!(r.target_from_reference);
    let ref_lufs = r.integrated_lufs.unwrap();
    // by-product_excerpt measures -17.0 LUFS with ffmpeg's ebur128 (tests/data/README.md).
    assert!((ref_lufs + 17.0).abs() < 0.1, "{ref_lufs}");
    let l = report.loudness.unwrap();
    assert_eq!(l.target_lufs, ref_lufs);
    let got = report.deliverables[0].measurement.integrated_lufs;
    assert!((got - ref_lufs).abs() <= 0.1, "{got} vs {ref_lufs}");
    let _ = std::fs::remove_dir_all(&out);
}
