//! Reference matching in the plugin gives the renderer's curve for the same audio: the mix
//! (tests/data/francium_excerpt.flac) goes through the editor's input taps block by block as
//! the audio thread writes them, the editor's capture copies it out as the GUI would between
//! frames, and the loader's computation fits the match curve against
//! tests/data/by-product_excerpt.flac. The renderer's `reference::prepare` on the decoded files
//! must give the same section gains, and the gains must land in the plugin's `mt_*`
//! parameters and in the settings the plugin exports.
#![cfg(feature = "render")]

use lathe::dsp::eq::match_curve::{MatchEqSettings, MATCH_SECTIONS};
use lathe::editor::reference::{apply_gains, compute_match, load_and_match, InputCapture};
use lathe::editor::AudioTap;
use lathe::params::travel::{export_toml, parse_toml, SetParam};
use lathe::params::LatheParams;
use lathe::render::analysis::{mid_signal, side_signal};
use lathe::render::decode::decode_file;
use lathe::render::reference;
use nice_plug::prelude::Param;

/// Both sides run the same analysis on the same samples but for L and R rebuilt from mid and
/// side (`(M + S)`, `(M - S)`: off by at most one rounding of the last bit); the fitted gains
/// must agree to a thousandth of a dB, far below the 0.01 dB step of the gain parameters.
const GAIN_TOLERANCE_DB: f32 = 1e-3;

/// Half the gain parameters' 0.01 dB step, plus f32 rounding.
const HALF_STEP_DB: f32 = 0.005 + 1e-5;

fn data(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// Sets a parameter as a host would, through its normalised value.
struct HostLike;
impl SetParam for HostLike {
    fn set<P: Param>(&self, param: &P, value: P::Plain) {
        let normalized = param.preview_normalized(value);
        // SAFETY: the pointer comes from a live parameter, on this one thread.
        unsafe {
            param.as_ptr()._internal_set_normalized_value(normalized);
        }
    }
}

/// The mix as the editor captures it: pushed into the taps in blocks of `block` frames, the
/// capture updated every `blocks_per_update` blocks.
fn captured(
    channels: &[Vec<f32>],
    rate: u32,
    block: usize,
    blocks_per_update: usize,
) -> InputCapture {
    let mid_tap = AudioTap::new();
    let side_tap = AudioTap::new();
    let mut capture = InputCapture::default();
    capture.update(&mid_tap, &side_tap, rate);
    let frames = channels[0].len();
    for (k, start) in (0..frames).step_by(block).enumerate() {
        let end = (start + block).min(frames);
        let mut l = channels[0][start..end].to_vec();
        let mut r = channels[1][start..end].to_vec();
        let buffer: [&mut [f32]; 2] = [&mut l, &mut r];
        mid_tap.push(&buffer);
        side_tap.push_side(&buffer);
        if k % blocks_per_update == blocks_per_update - 1 {
            capture.update(&mid_tap, &side_tap, rate);
        }
    }
    capture.update(&mid_tap, &side_tap, rate);
    capture
}

#[test]
fn the_plugins_match_curve_is_the_renderers() {
    let mix = decode_file(&data("francium_excerpt.flac")).expect("mix decodes");
    let reference_path = data("by-product_excerpt.flac");
    let refr = decode_file(&reference_path).expect("reference decodes");

    let capture = captured(&mix.channels, mix.sample_rate, 512, 3);
    assert_eq!(capture.skipped, 0);
    // The taps carry exactly the renderer's mid and side signals.
    assert_eq!(capture.mid, mid_signal(&mix.channels));
    assert_eq!(capture.side, side_signal(&mix.channels));

    let ours = compute_match(
        &capture.mid,
        &capture.side,
        capture.sample_rate,
        &refr.channels,
        refr.sample_rate,
        MatchEqSettings::default().smoothing_oct,
    );
    let mut theirs = MatchEqSettings::default();
    let m = reference::prepare(
        &mix.channels,
        &refr.channels,
        mix.sample_rate,
        refr.sample_rate,
        100.0,
        &mut theirs,
    );

    let mut worst = 0.0f32;
    for (a, b) in ours.mid_gains_db.iter().zip(theirs.mid_gains_db()) {
        worst = worst.max((a - b).abs());
    }
    for (a, b) in ours.side_gains_db.iter().zip(theirs.side_db) {
        worst = worst.max((a - b).abs());
    }
    let largest = theirs
        .mid_gains_db()
        .iter()
        .fold(0.0f32, |m, g| m.max(g.abs()));
    eprintln!("largest fitted gain {largest:.2} dB, plugin vs renderer {worst:.2e} dB");
    assert!(largest > 1.0, "the two songs should need a curve");
    assert!(
        worst <= GAIN_TOLERANCE_DB,
        "plugin and renderer gains differ by {worst} dB"
    );
    // The wanted curves agree too, band for band.
    for (p, w) in m.record.curve.iter().zip(&ours.wanted_db) {
        assert!((p.freq_hz / w.0 - 1.0).abs() < 1e-9);
        assert!((p.wanted_db - w.1).abs() < 1e-3, "{} Hz", p.freq_hz);
    }

    // Another smoothing travels the same way: the plugin's mt_sm is the renderer's
    // match_eq.smoothing_oct.
    let wide = compute_match(
        &capture.mid,
        &capture.side,
        capture.sample_rate,
        &refr.channels,
        refr.sample_rate,
        1.25,
    );
    let mut theirs_wide = MatchEqSettings {
        smoothing_oct: 1.25,
        ..Default::default()
    };
    reference::prepare(
        &mix.channels,
        &refr.channels,
        mix.sample_rate,
        refr.sample_rate,
        100.0,
        &mut theirs_wide,
    );
    let worst_wide = wide
        .mid_gains_db
        .iter()
        .zip(theirs_wide.mid_gains_db())
        .chain(wide.side_gains_db.iter().zip(theirs_wide.side_db))
        .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
    assert!(
        worst_wide <= GAIN_TOLERANCE_DB,
        "{worst_wide} dB at 1.25 octave"
    );
    assert_ne!(
        wide.mid_gains_db, ours.mid_gains_db,
        "the smoothing changes the fit"
    );

    // Loaded from the file as the editor's loader does, the same curve.
    let loaded = load_and_match(
        &reference_path,
        &capture,
        MatchEqSettings::default().smoothing_oct,
    )
    .expect("loads");
    assert_eq!(loaded.mid_gains_db, ours.mid_gains_db);
    assert_eq!(loaded.name, "by-product_excerpt.flac");

    // Applied to the parameters, the chain settings and the exported file carry it, to the
    // parameters' 0.01 dB step (a host's normalised value snaps to it).
    let params = LatheParams::default();
    apply_gains(
        &params.matching,
        &ours.mid_gains_db,
        &ours.side_gains_db,
        &HostLike,
    );
    let exported = parse_toml(&export_toml(&params)).expect("valid settings");
    let got = exported.match_eq;
    for i in 0..MATCH_SECTIONS {
        assert!((got.mid_gains_db()[i] - ours.mid_gains_db[i]).abs() <= HALF_STEP_DB);
    }
    for (g, w) in got.side_db.iter().zip(&ours.side_gains_db) {
        assert!((g - w).abs() <= HALF_STEP_DB);
    }
    assert!(got.mid_gains_db().iter().any(|&g| g != 0.0));
    assert_eq!(got, params.settings().match_eq);
}

#[test]
fn a_stalled_window_skips_what_the_ring_lost_and_an_unreadable_file_is_an_error() {
    let mix = decode_file(&data("francium_excerpt.flac")).expect("mix decodes");
    // One update per 64 blocks of 512 (32768 samples): more than the ring holds.
    let capture = captured(&mix.channels, mix.sample_rate, 512, 64);
    assert!(capture.skipped > 0);
    assert_eq!(capture.mid.len() + capture.skipped, mix.channels[0].len());
    assert_eq!(capture.mid.len(), capture.side.len());

    let full = captured(&mix.channels, mix.sample_rate, 512, 1);
    let e = load_and_match(&data("no_such_file.flac"), &full, 0.5).unwrap_err();
    assert!(!e.is_empty());
    let e = load_and_match(&data("demo.toml"), &full, 0.5).unwrap_err();
    assert!(!e.is_empty());
    let short = InputCapture::default();
    let e = load_and_match(&data("by-product_excerpt.flac"), &short, 0.5).unwrap_err();
    assert!(e.contains("play at least"), "{e}");
}
