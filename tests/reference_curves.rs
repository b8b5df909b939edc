//! Issue 16: the reference and assistant curves are what an engineer would apply — smooth,
//! inside the ±6 dB limit section by section, mono-safe below 150 Hz, and not chasing rumble
//! or air — on every ordered pair of the real excerpts in tests/data (4 songs, 12 pairs,
//! two sample rates), each matched at 100 % with the default smoothing.
//!
//! The measured figures are printed (`--nocapture`); `measure_smoothing_on_the_shared_mixes`
//! (ignored: it reads ../shared/audio, 60 s per song) is the measurement behind the default.
#![cfg(feature = "render")]

use std::path::{Path, PathBuf};

use lathe::dsp::eq::match_curve::{MatchEq, MatchEqSettings, MATCH_SMOOTHING_OCT};
use lathe::dsp::eq::EqSettings;
use lathe::render::decode::{decode_file, DecodedAudio};
use lathe::render::reference::{
    self, assist, band_level_db, low_band_correlation, CURVE_LIMIT_DB, EDGE_BOOST_DB,
    EDGE_CONTENT_DB, MONO_BASS_HZ,
};

const SONGS: [&str; 4] = [
    "francium_excerpt.flac",
    "by-product_excerpt.flac",
    "vibe-ace_excerpt.flac",
    "potassium_mix.flac",
];

/// The smoothness bound: neighbouring 1/6-octave points of the applied curve, 30 Hz
/// to 16 kHz.
const MAX_STEP_DB: f64 = 1.0;
/// Rounding of a section gain to f32 and of the response evaluation.
const EPS_DB: f64 = 1e-3;
/// What a widening bell at 500 Hz or above still lends the bass below 150 Hz through its
/// skirt: measured up to +0.006 dB at 20 Hz (francium <- potassium); a hundredth of a dB.
const SIDE_SKIRT_DB: f64 = 0.01;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn load(path: &Path) -> DecodedAudio {
    decode_file(path).expect("test data decodes")
}

fn pairs(paths: &[PathBuf]) -> Vec<(usize, usize)> {
    let n = paths.len();
    (0..n)
        .flat_map(|a| (0..n).filter(move |&b| b != a).map(move |b| (a, b)))
        .collect()
}

fn prepare(
    mix: &DecodedAudio,
    refr: &DecodedAudio,
    smoothing_oct: f32,
) -> (reference::Matching, MatchEqSettings) {
    let mut s = MatchEqSettings {
        smoothing_oct,
        ..Default::default()
    };
    let m = reference::prepare(
        &mix.channels,
        &refr.channels,
        mix.sample_rate,
        refr.sample_rate,
        100.0,
        &mut s,
    );
    (m, s)
}

/// Items 1–3 on every pair of excerpts, with the default smoothing, at 100 %.
#[test]
fn every_pair_is_smooth_bounded_mono_safe_and_leaves_rumble_and_air_alone() {
    let paths: Vec<PathBuf> = SONGS.iter().map(|s| data(s)).collect();
    let audio: Vec<DecodedAudio> = paths.iter().map(|p| load(p)).collect();
    let default = MATCH_SMOOTHING_OCT.default;
    let (mut worst_step, mut worst_gain, mut worst_side_low, mut worst_edge) =
        (0.0f64, 0.0f64, f64::NEG_INFINITY, f64::NEG_INFINITY);
    for (a, b) in pairs(&paths) {
        let (mix, refr) = (&audio[a], &audio[b]);
        let rate = mix.sample_rate as f32;
        let (m, s) = prepare(mix, refr, default);
        let r = &m.record;
        assert_eq!(r.smoothing_oct, default);
        let tag = format!("{} <- {}", SONGS[a], SONGS[b]);

        // 1. Smooth, and every section inside its own ±6 dB.
        worst_step = worst_step.max(r.max_neighbour_step_full_db);
        if r.max_neighbour_step_full_db > MAX_STEP_DB {
            for w in r.curve.windows(2) {
                let f = w[0].freq_hz;
                let full = |f: f64| f64::from(MatchEq::magnitude_db(&s, rate, f as f32));
                let step = (full(w[1].freq_hz) - full(f)).abs();
                if step > 0.5 && (30.0..=16_000.0).contains(&f) {
                    eprintln!(
                        "{tag}: {f:.0} Hz wanted {:+.2} -> {:+.2}, applied {:+.2} -> {:+.2}",
                        w[0].wanted_db,
                        w[1].wanted_db,
                        full(f),
                        full(w[1].freq_hz)
                    );
                }
            }
        }
        assert!(
            r.max_neighbour_step_full_db <= MAX_STEP_DB,
            "{tag}: step {:.2} dB",
            r.max_neighbour_step_full_db
        );
        for g in s.mid_gains_db().iter().chain(&s.side_db) {
            worst_gain = worst_gain.max(f64::from(g.abs()));
            assert!(
                f64::from(g.abs()) <= CURVE_LIMIT_DB + EPS_DB,
                "{tag}: {g} dB"
            );
        }

        // 2. No side added below 150 Hz.
        for f in (0..=40).map(|k| 20.0 * 2f32.powf(k as f32 / 48.0)) {
            if f64::from(f) > MONO_BASS_HZ {
                break;
            }
            let side = f64::from(MatchEq::side_magnitude_db(&s, rate, f));
            worst_side_low = worst_side_low.max(side);
            assert!(
                side <= SIDE_SKIRT_DB,
                "{tag}: side {side:+.3} dB at {f:.0} Hz"
            );
        }

        // 3. Below 40 Hz and above 16 kHz: at most +3 dB, and none where the mix is more
        //    than 30 dB under its 100 Hz–1 kHz level.
        let body = band_level_db(&m.mix.mid_db, 100.0, 1000.0).unwrap();
        for &(f, level) in m.mix.mid_db.iter() {
            if (40.0..=16_000.0).contains(&f) || f >= 0.5 * f64::from(rate) {
                continue;
            }
            let applied = f64::from(MatchEq::magnitude_db(&s, rate, f as f32));
            worst_edge = worst_edge.max(applied);
            assert!(
                applied <= EDGE_BOOST_DB + 0.05,
                "{tag}: {applied:+.2} dB at {f:.0} Hz"
            );
            if level.is_nan() || level < body - EDGE_CONTENT_DB {
                assert!(
                    applied <= 0.05,
                    "{tag}: boosts {applied:+.2} dB at {f:.0} Hz with no content"
                );
            }
        }
        eprintln!(
            "{tag}: step {:.2} dB, largest section {:.2} dB, fall {:?}",
            r.max_neighbour_step_full_db,
            s.mid_gains_db()
                .iter()
                .chain(&s.side_db)
                .fold(0.0f32, |m, g| m.max(g.abs())),
            r.distance_before_db
        );
    }
    eprintln!(
        "worst over 12 pairs: neighbour step {worst_step:.2} dB, section gain {worst_gain:.2} dB, \
         side below 150 Hz {worst_side_low:+.3} dB, boost below 40 Hz / above 16 kHz {worst_edge:+.2} dB"
    );
}

/// Item 2, measured on the master's spectrum: the side-only curve never makes the bass less
/// correlated than the mix's; the match curve alone, rendered through the stage, at 100 %.
#[test]
fn the_matched_bass_is_never_less_correlated_than_the_mix() {
    let paths: Vec<PathBuf> = SONGS.iter().map(|s| data(s)).collect();
    let audio: Vec<DecodedAudio> = paths.iter().map(|p| load(p)).collect();
    for (a, b) in pairs(&paths) {
        let (mix, refr) = (&audio[a], &audio[b]);
        let (_, s) = prepare(mix, refr, MATCH_SMOOTHING_OCT.default);
        let mut out = mix.channels.clone();
        let mut stage = MatchEq::new(mix.sample_rate as f32, 2);
        {
            let (l, r) = out.split_at_mut(1);
            stage.process(&mut [&mut l[0][..], &mut r[0][..]], &s);
        }
        let before = low_band_correlation(&reference::analyse(&mix.channels, mix.sample_rate));
        let after = low_band_correlation(&reference::analyse(&out, mix.sample_rate));
        let (before, after) = (before.unwrap(), after.unwrap());
        eprintln!(
            "{} <- {}: correlation below 150 Hz {before:.4} -> {after:.4}",
            SONGS[a], SONGS[b]
        );
        assert!(after >= before, "{before} -> {after}");
    }
}

/// Item 5: the assistant's moves are smooth by construction (five broad bands), each within
/// ±3 dB, mid only (mono-safe), and it still suggests moves on real music: every excerpt
/// gets at least one move of 0.5 dB or more.
#[test]
fn the_assistant_suggests_bounded_moves_on_real_music() {
    for song in SONGS {
        let mix = load(&data(song));
        let mut eq = EqSettings::default();
        let rec = assist::suggest(&mix.channels, mix.sample_rate, &mut eq, 100.0);
        let largest = rec
            .moves
            .iter()
            .fold(0.0f32, |m, mv| m.max(mv.suggested_db.abs()));
        eprintln!(
            "{song}: {:.0} % outside, moves {:?}",
            100.0 * rec.outside_fraction,
            rec.moves
                .iter()
                .map(|m| format!("{} {:+.2}", m.band, m.suggested_db))
                .collect::<Vec<_>>()
        );
        for mv in &rec.moves {
            assert!(f64::from(mv.suggested_db.abs()) <= assist::MAX_MOVE_DB + 1e-6);
        }
        assert!(largest >= 0.5, "{song}: no move suggested");
    }
}

/// The measurement behind the default smoothing: each shared mix against the other three at
/// 100 %, the largest neighbour step and the distance fall for each smoothing.
#[test]
#[ignore = "reads ../shared/audio (4 × 60 s); run by hand with --ignored --nocapture"]
fn measure_smoothing_on_the_shared_mixes() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/audio/mixes");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("../shared/audio/mixes")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "flac"))
        .collect();
    paths.sort();
    let audio: Vec<DecodedAudio> = paths.iter().map(|p| load(p)).collect();
    for oct in [0.0f32, 0.25, 0.375, 0.5, 0.75, 1.0] {
        let (mut worst, mut largest, mut fall) = (0.0f64, 0.0f32, 0.0f64);
        let all = pairs(&paths);
        for &(a, b) in &all {
            let (m, s) = prepare(&audio[a], &audio[b], oct);
            worst = worst.max(m.record.max_neighbour_step_full_db);
            largest = s
                .mid_gains_db()
                .iter()
                .chain(&s.side_db)
                .fold(largest, |m, g| m.max(g.abs()));
            // The curve's own prediction of the distance after (mix + applied response).
            let after = predicted_distance(&m, &s, audio[a].sample_rate);
            let before = m.record.distance_before_db.unwrap();
            fall += 100.0 * (before - after) / before / all.len() as f64;
        }
        eprintln!(
            "smoothing {oct:.3} oct: largest neighbour step {worst:.2} dB, largest section \
             {largest:.2} dB, predicted mean fall {fall:.1} %"
        );
    }
}

/// The 1/3-octave distance the matched mix would have if the curve were applied exactly:
/// the mix's bands plus the applied response, re-normalised to the K-weighted level by the
/// mean difference (a quick estimate; the renderer measures the master itself).
fn predicted_distance(m: &reference::Matching, s: &MatchEqSettings, rate: u32) -> f64 {
    let pts: Vec<(f64, f64)> = m
        .mix
        .third_octave_db
        .iter()
        .zip(&m.reference.third_octave_db)
        .filter(|(x, y)| x.1.is_finite() && y.1.is_finite())
        .map(|(x, y)| {
            let applied = f64::from(MatchEq::magnitude_db(s, rate as f32, x.0 as f32));
            (x.1 + applied, y.1)
        })
        .collect();
    let offset = pts.iter().map(|p| p.1 - p.0).sum::<f64>() / pts.len() as f64;
    (pts.iter()
        .map(|p| (p.0 + offset - p.1).powi(2))
        .sum::<f64>()
        / pts.len() as f64)
        .sqrt()
}
