//! What each streaming platform's loudness normalisation does to the master's level, for the
//! report's table. The platforms, their references and their policies (with the sources for
//! each) are the plugin's own table in `dsp::platforms`, so the report and the plugin's
//! meters cannot disagree; the report lists the streaming services. The figures are the
//! playback gain a listener with normalisation on (the platforms' default) hears, not a
//! prediction of the encoded file.

use serde::{Deserialize, Serialize};

use crate::dsp::platforms::{self, Normalisation, Platform};

/// The platforms the report lists, in the order it lists them.
pub const REPORTED: [Platform; 6] = [
    Platform::Spotify,
    Platform::AppleMusic,
    Platform::YouTube,
    Platform::Amazon,
    Platform::Tidal,
    Platform::Deezer,
];

/// One row of the report's platform table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlatformRow {
    pub platform: String,
    pub target_lufs: f64,
    /// Playback gain the platform applies to the master: negative turns it down.
    pub gain_db: f64,
    /// Loudness the listener hears: the master's integrated loudness plus `gain_db`; `None`
    /// for a master with no measurable loudness.
    pub playback_lufs: Option<f64>,
    /// What happens, in words.
    pub note: String,
}

/// What every platform in [`REPORTED`] does to a master of `integrated_lufs` and
/// `true_peak_dbtp`.
pub fn platform_table(integrated_lufs: f64, true_peak_dbtp: f64) -> Vec<PlatformRow> {
    REPORTED
        .iter()
        .map(|&p| {
            let gain_db = if integrated_lufs.is_finite() {
                platforms::platform_gain_db(p, integrated_lufs as f32, true_peak_dbtp as f32) as f64
            } else {
                0.0
            };
            PlatformRow {
                platform: p.name().to_string(),
                target_lufs: p.target_lufs() as f64,
                gain_db,
                playback_lufs: Some(integrated_lufs + gain_db).filter(|l| l.is_finite()),
                note: note(p, integrated_lufs, gain_db),
            }
        })
        .collect()
}

/// Gains smaller than this are "played as delivered" (the table shows one decimal).
const NEGLIGIBLE_DB: f64 = 0.05;

fn note(p: Platform, integrated_lufs: f64, gain_db: f64) -> String {
    if !integrated_lufs.is_finite() {
        return "no measurable loudness: played as delivered".to_string();
    }
    let wanted = p.target_lufs() as f64 - integrated_lufs;
    if gain_db < -NEGLIGIBLE_DB {
        return format!("turned down {:.1} dB", -gain_db);
    }
    if wanted.abs() <= NEGLIGIBLE_DB {
        return "at the target: played as delivered".to_string();
    }
    match p.spec().policy {
        Normalisation::DownOnly | Normalisation::None => format!(
            "{wanted:.1} dB under the target; {} does not turn tracks up",
            p.name()
        ),
        Normalisation::UpAndDown => format!("turned up {gain_db:.1} dB"),
        Normalisation::UpToPeak { max_peak_dbtp } => {
            if gain_db + NEGLIGIBLE_DB >= wanted {
                format!("turned up {gain_db:.1} dB")
            } else {
                format!(
                    "turned up {gain_db:.1} dB of the {wanted:.1} dB needed: true peak held at \
                     {max_peak_dbtp:.0} dBTP"
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(rows: &[PlatformRow], name: &str) -> PlatformRow {
        rows.iter().find(|r| r.platform == name).unwrap().clone()
    }

    #[test]
    fn spotifys_own_example_lifts_minus_20_with_minus_5_peaks_to_minus_16() {
        let rows = platform_table(-20.0, -5.0);
        let s = row(&rows, "Spotify");
        assert!((s.gain_db - 4.0).abs() < 1e-6);
        assert!((s.playback_lufs.unwrap() + 16.0).abs() < 1e-6);
        assert!(s.note.contains("true peak held"), "{}", s.note);
    }

    #[test]
    fn loud_masters_are_turned_down_everywhere_and_quiet_ones_up_only_where_allowed() {
        let loud = platform_table(-8.0, -1.0);
        for r in &loud {
            assert!(
                (r.playback_lufs.unwrap() - r.target_lufs).abs() < 1e-6,
                "{r:?}"
            );
            assert!(r.note.starts_with("turned down"));
        }
        let quiet = platform_table(-20.0, -10.0);
        assert!((row(&quiet, "Apple Music").gain_db - 4.0).abs() < 1e-6);
        assert!((row(&quiet, "Spotify").gain_db - 6.0).abs() < 1e-6);
        for name in ["YouTube", "Amazon Music", "Tidal", "Deezer"] {
            assert_eq!(row(&quiet, name).gain_db, 0.0, "{name}");
        }
    }

    #[test]
    fn the_report_and_the_plugins_meters_give_the_same_gains() {
        for (lufs, tp) in [(-22.0, -2.0), (-9.0, -0.1), (-15.0, -1.5), (-14.0, -1.0)] {
            let rows = platform_table(lufs, tp);
            for (r, p) in rows.iter().zip(REPORTED) {
                let meters = platforms::platform_gain_db(p, lufs as f32, tp as f32) as f64;
                assert_eq!(
                    r.gain_db, meters,
                    "{} at {lufs} LUFS, {tp} dBTP",
                    r.platform
                );
            }
        }
        // Apple's turn-up, modelled like Spotify's, stops where the peaks reach -1 dBTP.
        let apple = row(&platform_table(-22.0, -2.0), "Apple Music");
        assert!((apple.gain_db - 1.0).abs() < 1e-6, "{apple:?}");
        assert!(apple.note.contains("true peak held"), "{}", apple.note);
    }

    #[test]
    fn silence_gets_no_gain() {
        for r in platform_table(f64::NEG_INFINITY, f64::NEG_INFINITY) {
            assert_eq!(r.gain_db, 0.0);
            assert_eq!(r.playback_lufs, None);
        }
    }
}
