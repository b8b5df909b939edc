//! Needs: cargo xtask bundle lathe --release
//!
//! Settings travel from the DAW to the renderer: a master dialled in the built `Lathe.clap`
//! (driven through clack-host, as a DAW drives it) is saved with the session, read back as
//! the settings TOML `cargo xtask render --settings` takes, and rendered offline as set. The
//! delivered file is the plugin's output, moved by the plugin's latency, to within the 24-bit
//! file's own rounding: far under -120 dBFS.

#[path = "common/clap_host.rs"]
mod clap_host;

use clack_host::prelude::ClapId;
use clap_host::{Lathe, HOT};
use lathe::dsp::ChainSettings;
use lathe::params::state::settings_from_saved_state;
use lathe::render::decode::decode_file;
use lathe::render::{self, Format, RenderJob};

/// The plugin's output cannot be closer to the render than the 24-bit file's rounding and
/// TPDF dither (2 LSB peak at 24 bits is -132 dBFS); the issue asks for -120 dBFS or better.
const MAX_DIFFERENCE_DBFS: f64 = -120.0;

fn data(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

#[test]
fn a_session_exported_as_settings_renders_to_the_plugins_own_output() {
    let mix_path = data("francium_excerpt.flac");
    let mix = decode_file(&mix_path).expect("the excerpt decodes");
    let rate = mix.sample_rate;

    // The DAW: the session's parameter changes arrive with the first block.
    let mut plugin = Lathe::load();
    plugin.activate(rate as f64, 1024);
    let latency = plugin.latency() as usize;
    // A master as an engineer might leave it: every stage working, and the fixed release.
    let changes: Vec<(ClapId, f64)> = HOT
        .iter()
        .chain(&[("Auto Release", 0.0)])
        .map(|&(name, value)| (plugin.param_id(name), value))
        .collect();
    let frames = mix.channels[0].len();
    // The plugin hears the mix and then its latency of silence, so all of it comes out.
    let input: Vec<Vec<f32>> = mix
        .channels
        .iter()
        .map(|c| {
            let mut v = c.clone();
            v.resize(frames + latency, 0.0);
            v
        })
        .collect();
    let played = plugin.process(&input, &changes, &[1024, 333, 512]);

    // Saved with the session, exported as the settings TOML, read back as the CLI reads it.
    let state = plugin.save_state();
    let exported = settings_from_saved_state(&state).expect("the saved state reads back");
    assert_ne!(
        exported,
        ChainSettings::default(),
        "the session moved nothing"
    );
    let dir = std::env::temp_dir().join(format!("lathe-travel-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let settings_path = dir.join("session.toml");
    std::fs::write(&settings_path, exported.to_toml()).unwrap();
    let settings = render::load_settings(&settings_path).expect("the exported TOML loads");
    assert_eq!(settings, exported, "the TOML carries every setting exactly");

    // The renderer, as set: no loudness solve, one 24-bit file at the mix's rate.
    let mut job = RenderJob::new(&mix_path, dir.join("out"), settings);
    job.target_lufs = None;
    job.formats = vec![Format::Wav { rate, bits: 24 }];
    let report = render::render(&job, &mut |_, _| {}).expect("the render runs");
    let delivered = decode_file(&report.deliverables[0].path).expect("the WAV decodes");
    assert_eq!(delivered.channels[0].len(), frames);

    let mut worst = 0.0f64;
    for (ours, theirs) in delivered.channels.iter().zip(&played) {
        for (a, b) in ours.iter().zip(&theirs[latency..]) {
            worst = worst.max((*a as f64 - *b as f64).abs());
        }
    }
    let worst_dbfs = 20.0 * worst.max(1e-20).log10();
    let played_peak = played
        .iter()
        .flat_map(|c| c.iter())
        .fold(0.0f32, |m, x| m.max(x.abs()));
    eprintln!(
        "latency {latency} frames, plugin peak {:.2} dBFS, largest difference {worst_dbfs:.1} dBFS",
        20.0 * played_peak.log10()
    );
    assert!(played_peak > 0.1, "the plugin played silence");
    assert!(
        worst_dbfs <= MAX_DIFFERENCE_DBFS,
        "the render differs from the plugin by {worst_dbfs:.1} dBFS"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
