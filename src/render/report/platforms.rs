//! What each streaming platform's loudness normalisation does to the master's level, for the
//! report's table.
//!
//! The lead switches [`platform_table`] over to `dsp::platforms` (the shared table of platform
//! presets) once that module lands; until then this is the report's own minimal table, and it
//! keeps the same rules.
//!
//! Policies, as the platforms publish them or as they are measured where they do not:
//! - Spotify, "Loudness normalization" (Spotify for Artists help, 2024): normal mode plays at
//!   -14 LUFS (ITU-R BS.1770); loud masters are turned down; quiet ones are turned up only as
//!   far as leaves 1 dB of true-peak headroom ("a track at -20 LUFS with a true peak of -5 dBFS
//!   is lifted to -16 LUFS").
//! - Apple Music, Sound Check: about -16 LUFS, turning tracks both up and down; Apple publishes
//!   no peak rule, so the gain is reported as it is and the table notes when the raised peaks
//!   would pass 0 dBTP.
//! - YouTube: -14 LUFS, turned down only (its "content loudness" figure never goes positive).
//! - Amazon Music: -14 LUFS, turned down only.
//! - Tidal: -14 LUFS measured with BS.1770-4, turned down only (Tidal's statement to MeterPlugs,
//!   "Tidal adds loudness normalization", 2016).
//! - Deezer: -15 LUFS, turned down only.
//!
//! AES TD1008 (2021), "Recommendations for loudness of internet audio streaming and on-demand
//! distribution", collects these practices and recommends -1 dBTP at a lossy codec's input.
//! Platforms change their policies; the figures are the playback gain a listener with
//! normalisation on (the platforms' default) hears, not a prediction of the encoded file.

use serde::{Deserialize, Serialize};

/// How a platform moves a track towards its target.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Normalisation {
    /// Loud tracks down, quiet tracks left as they are.
    DownOnly,
    /// Down, and up all the way to the target.
    UpAndDown,
    /// Down, and up only until the true peak reaches `peak_limit_dbtp`.
    UpToPeak { peak_limit_dbtp: f64 },
}

/// One platform's normalisation policy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Policy {
    pub platform: &'static str,
    pub target_lufs: f64,
    pub normalisation: Normalisation,
}

/// The platforms the report lists, in the order it lists them.
pub const POLICIES: [Policy; 6] = [
    Policy {
        platform: "Spotify",
        target_lufs: -14.0,
        normalisation: Normalisation::UpToPeak {
            peak_limit_dbtp: -1.0,
        },
    },
    Policy {
        platform: "Apple Music",
        target_lufs: -16.0,
        normalisation: Normalisation::UpAndDown,
    },
    Policy {
        platform: "YouTube",
        target_lufs: -14.0,
        normalisation: Normalisation::DownOnly,
    },
    Policy {
        platform: "Amazon Music",
        target_lufs: -14.0,
        normalisation: Normalisation::DownOnly,
    },
    Policy {
        platform: "Tidal",
        target_lufs: -14.0,
        normalisation: Normalisation::DownOnly,
    },
    Policy {
        platform: "Deezer",
        target_lufs: -15.0,
        normalisation: Normalisation::DownOnly,
    },
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

/// The gain `policy` applies to a master of `integrated_lufs` with true peak `true_peak_dbtp`.
/// A master that measures no loudness (silence) gets no gain.
pub fn platform_gain_db(policy: &Policy, integrated_lufs: f64, true_peak_dbtp: f64) -> f64 {
    if !integrated_lufs.is_finite() {
        return 0.0;
    }
    let wanted = policy.target_lufs - integrated_lufs;
    if wanted <= 0.0 {
        return wanted;
    }
    match policy.normalisation {
        Normalisation::DownOnly => 0.0,
        Normalisation::UpAndDown => wanted,
        Normalisation::UpToPeak { peak_limit_dbtp } => {
            let headroom = if true_peak_dbtp.is_finite() {
                (peak_limit_dbtp - true_peak_dbtp).max(0.0)
            } else {
                wanted
            };
            wanted.min(headroom)
        }
    }
}

/// What every platform in [`POLICIES`] does to a master of `integrated_lufs` and
/// `true_peak_dbtp`.
pub fn platform_table(integrated_lufs: f64, true_peak_dbtp: f64) -> Vec<PlatformRow> {
    POLICIES
        .iter()
        .map(|p| {
            let gain_db = platform_gain_db(p, integrated_lufs, true_peak_dbtp);
            PlatformRow {
                platform: p.platform.to_string(),
                target_lufs: p.target_lufs,
                gain_db,
                playback_lufs: Some(integrated_lufs + gain_db).filter(|l| l.is_finite()),
                note: note(p, integrated_lufs, true_peak_dbtp, gain_db),
            }
        })
        .collect()
}

/// Gains smaller than this are "played as delivered" (the table shows one decimal).
const NEGLIGIBLE_DB: f64 = 0.05;

fn note(p: &Policy, integrated_lufs: f64, true_peak_dbtp: f64, gain_db: f64) -> String {
    if !integrated_lufs.is_finite() {
        return "no measurable loudness: played as delivered".to_string();
    }
    let wanted = p.target_lufs - integrated_lufs;
    if gain_db < -NEGLIGIBLE_DB {
        return format!("turned down {:.1} dB", -gain_db);
    }
    if wanted.abs() <= NEGLIGIBLE_DB {
        return "at the target: played as delivered".to_string();
    }
    match p.normalisation {
        Normalisation::DownOnly => format!(
            "{:.1} dB under the target; {} does not turn tracks up",
            wanted, p.platform
        ),
        Normalisation::UpAndDown => {
            let peak = true_peak_dbtp + gain_db;
            if peak > 0.0 {
                format!("turned up {gain_db:.1} dB; peaks would reach {peak:+.1} dBTP")
            } else {
                format!("turned up {gain_db:.1} dB")
            }
        }
        Normalisation::UpToPeak { peak_limit_dbtp } => {
            if gain_db + NEGLIGIBLE_DB >= wanted {
                format!("turned up {gain_db:.1} dB")
            } else {
                format!(
                    "turned up {gain_db:.1} dB of the {wanted:.1} dB needed: true peak held at \
                     {peak_limit_dbtp:.0} dBTP"
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
        assert!((s.gain_db - 4.0).abs() < 1e-9);
        assert!((s.playback_lufs.unwrap() + 16.0).abs() < 1e-9);
        assert!(s.note.contains("true peak held"), "{}", s.note);
    }

    #[test]
    fn loud_masters_are_turned_down_everywhere_and_quiet_ones_up_only_where_allowed() {
        let loud = platform_table(-8.0, -1.0);
        for r in &loud {
            assert!(
                (r.playback_lufs.unwrap() - r.target_lufs).abs() < 1e-9,
                "{r:?}"
            );
            assert!(r.note.starts_with("turned down"));
        }
        let quiet = platform_table(-20.0, -10.0);
        assert!((row(&quiet, "Apple Music").gain_db - 4.0).abs() < 1e-9);
        assert!((row(&quiet, "Spotify").gain_db - 6.0).abs() < 1e-9);
        for name in ["YouTube", "Amazon Music", "Tidal", "Deezer"] {
            assert_eq!(row(&quiet, name).gain_db, 0.0, "{name}");
        }
    }

    #[test]
    fn apple_notes_peaks_pushed_over_full_scale() {
        let r = row(&platform_table(-22.0, -2.0), "Apple Music");
        assert!(r.note.contains("+4.0 dBTP"), "{}", r.note);
    }

    #[test]
    fn silence_gets_no_gain() {
        for r in platform_table(f64::NEG_INFINITY, f64::NEG_INFINITY) {
            assert_eq!(r.gain_db, 0.0);
            assert_eq!(r.playback_lufs, None);
        }
    }
}
