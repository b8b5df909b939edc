//! Where a master is played, and what that place does to its level.
//!
//! Streaming services and broadcasters measure a track's integrated loudness (ITU-R BS.1770)
//! and play it back turned down or up toward their own reference level. A master louder than
//! the reference gains nothing but a turn-down (and has lost its peaks for it); a quieter one
//! may or may not be turned up, depending on the service. This table holds each destination's
//! reference and its policy, so the plugin can show what each will do to the master, the
//! Learn mode can aim at one, and the renderer can report it per deliverable.
//!
//! Sources (as published when this table was written; services change them):
//! - Spotify: Spotify for Artists, "Loudness normalization": tracks adjusted to −14 LUFS
//!   (ITU 1770); louder masters turned down; softer ones turned up only as far as leaves 1 dB
//!   of true-peak headroom ("a track at −20 LUFS with a −5 dBFS true peak is only lifted to
//!   −16 LUFS"). Normal mode; Loud (−11, with a limiter) and Quiet (−19) are listener options.
//! - Apple Music: Sound Check at −16 LUFS, the level AES TD1008 (2021, "Recommendations for
//!   Loudness of Internet Audio Streaming and On-Demand Distribution") recommends for music;
//!   Sound Check turns quiet tracks up as well as loud ones down. Apple does not publish a
//!   peak rule for the turn-up; it is modelled like Spotify's (up to −1 dBTP), the
//!   conservative reading.
//! - YouTube: −14 LUFS, loud uploads turned down, quiet ones left alone (its "content
//!   loudness" in Stats for nerds; I. Shepherd, productionadvice.co.uk, and MeterPlugs'
//!   measurements).
//! - Tidal: −14 LUFS (BS.1770-4), "does not raise the level of music whose loudness is less
//!   than −14 LUFS" (Tidal to MeterPlugs, 2016).
//! - Amazon Music (−14 LUFS) and Deezer (−15 LUFS) publish their reference level only; they
//!   are modelled as turn-down-only, the behaviour of most services and the one that never
//!   flatters a quiet master. [`PlatformSpec::policy_documented`] says so.
//! - EBU R128 (2020): programme loudness −23 LUFS ±0.5 LU (±1 LU live), max true peak
//!   −1 dBTP. A broadcaster normalises every programme to it, up or down.
//! - ATSC A/85 (2013): −24 LKFS for US television, up or down; −2 dBTP max true peak.
//! - CD / club: nothing normalises a CD or a club system; −9 LUFS is a common loud-master
//!   reference, not a standard. The master plays as it is.

use serde::{Deserialize, Serialize};

/// A loudness destination. The serde names (and [`Platform::id`]) are the short names used
/// in settings files and on the renderer's command line (`--platform spotify`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Platform {
    #[default]
    #[serde(rename = "spotify")]
    Spotify,
    #[serde(rename = "apple")]
    AppleMusic,
    #[serde(rename = "youtube")]
    YouTube,
    #[serde(rename = "amazon")]
    Amazon,
    #[serde(rename = "tidal")]
    Tidal,
    #[serde(rename = "deezer")]
    Deezer,
    #[serde(rename = "ebu")]
    EbuR128,
    #[serde(rename = "atsc")]
    AtscA85,
    #[serde(rename = "cd")]
    CdClub,
    /// The engineer's own target (`TargetSettings::lufs`); not a platform, nothing
    /// normalises it.
    #[serde(rename = "custom")]
    Custom,
}

/// Number of [`Platform`] values; arrays indexed by `platform as usize` have this length.
pub const PLATFORM_COUNT: usize = 10;

/// What a destination does to a master's level.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Normalisation {
    /// Turned down to the reference when louder; turned up when quieter, but only as far as
    /// keeps the true peak at or under `max_peak_dbtp`.
    UpToPeak { max_peak_dbtp: f32 },
    /// Turned down to the reference when louder; left alone when quieter.
    DownOnly,
    /// Turned up or down to the reference (broadcast: peaks are the deliverer's problem).
    UpAndDown,
    /// Played as it is.
    None,
}

/// One row of the table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlatformSpec {
    pub platform: Platform,
    /// Short permanent name (settings files, command line).
    pub id: &'static str,
    /// Name for people.
    pub name: &'static str,
    /// The level the destination plays masters at (or, for CD/club, aims them at), LUFS.
    pub target_lufs: f32,
    pub policy: Normalisation,
    /// Whether the destination publishes its turn-up rule (false: modelled, see module docs).
    pub policy_documented: bool,
}

const fn spec(
    platform: Platform,
    id: &'static str,
    name: &'static str,
    target_lufs: f32,
    policy: Normalisation,
    policy_documented: bool,
) -> PlatformSpec {
    PlatformSpec {
        platform,
        id,
        name,
        target_lufs,
        policy,
        policy_documented,
    }
}

/// Spotify and (modelled) Apple leave 1 dB of true-peak headroom when turning up.
const UP_TO_MINUS_1_DBTP: Normalisation = Normalisation::UpToPeak {
    max_peak_dbtp: -1.0,
};

/// Every destination, in [`Platform`] order (so `PLATFORMS[p as usize].platform == p`).
/// The custom row's target is the default of `TargetSettings::lufs`; the real one lives in
/// the settings.
pub const PLATFORMS: [PlatformSpec; PLATFORM_COUNT] = [
    spec(
        Platform::Spotify,
        "spotify",
        "Spotify",
        -14.0,
        UP_TO_MINUS_1_DBTP,
        true,
    ),
    spec(
        Platform::AppleMusic,
        "apple",
        "Apple Music",
        -16.0,
        UP_TO_MINUS_1_DBTP,
        false,
    ),
    spec(
        Platform::YouTube,
        "youtube",
        "YouTube",
        -14.0,
        Normalisation::DownOnly,
        true,
    ),
    spec(
        Platform::Amazon,
        "amazon",
        "Amazon Music",
        -14.0,
        Normalisation::DownOnly,
        false,
    ),
    spec(
        Platform::Tidal,
        "tidal",
        "Tidal",
        -14.0,
        Normalisation::DownOnly,
        true,
    ),
    spec(
        Platform::Deezer,
        "deezer",
        "Deezer",
        -15.0,
        Normalisation::DownOnly,
        false,
    ),
    spec(
        Platform::EbuR128,
        "ebu",
        "EBU R128",
        -23.0,
        Normalisation::UpAndDown,
        true,
    ),
    spec(
        Platform::AtscA85,
        "atsc",
        "ATSC A/85",
        -24.0,
        Normalisation::UpAndDown,
        true,
    ),
    spec(
        Platform::CdClub,
        "cd",
        "CD / club",
        -9.0,
        Normalisation::None,
        true,
    ),
    spec(
        Platform::Custom,
        "custom",
        "Custom",
        -14.0,
        Normalisation::None,
        true,
    ),
];

impl Platform {
    /// Every platform, in table order.
    pub const ALL: [Platform; PLATFORM_COUNT] = [
        Platform::Spotify,
        Platform::AppleMusic,
        Platform::YouTube,
        Platform::Amazon,
        Platform::Tidal,
        Platform::Deezer,
        Platform::EbuR128,
        Platform::AtscA85,
        Platform::CdClub,
        Platform::Custom,
    ];

    pub fn spec(self) -> &'static PlatformSpec {
        &PLATFORMS[self as usize]
    }

    pub fn id(self) -> &'static str {
        self.spec().id
    }

    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// The reference level, LUFS (for [`Platform::Custom`], the default custom target).
    pub fn target_lufs(self) -> f32 {
        self.spec().target_lufs
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

/// A platform name that is not in the table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown platform `{0}` (expected one of: spotify, apple, youtube, amazon, tidal, deezer, ebu, atsc, cd, custom)")]
pub struct UnknownPlatform(pub String);

impl std::str::FromStr for Platform {
    type Err = UnknownPlatform;

    /// Parses the short id, case-insensitively.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        Platform::ALL
            .into_iter()
            .find(|p| p.id().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| UnknownPlatform(s.to_string()))
    }
}

/// How many dB `policy` turns a master with this integrated loudness and true peak up
/// (positive) or down (negative) to reach `target_lufs`. 0 while the loudness is unknown
/// (not finite): there is nothing to normalise yet.
pub fn normalisation_gain_db(
    policy: Normalisation,
    target_lufs: f32,
    integrated_lufs: f32,
    true_peak_dbtp: f32,
) -> f32 {
    if !integrated_lufs.is_finite() {
        return 0.0;
    }
    let full = target_lufs - integrated_lufs;
    match policy {
        Normalisation::UpAndDown => full,
        Normalisation::None => 0.0,
        Normalisation::DownOnly => full.min(0.0),
        Normalisation::UpToPeak { max_peak_dbtp } => {
            if full <= 0.0 {
                full
            } else {
                // Up only as far as the true peak allows, and never down for a quiet track
                // whose peak is already over: such a track is just left alone.
                let headroom = if true_peak_dbtp.is_finite() {
                    max_peak_dbtp - true_peak_dbtp
                } else {
                    full
                };
                full.min(headroom).max(0.0)
            }
        }
    }
}

/// How many dB `platform` turns a master up (positive) or down (negative) on playback.
/// [`Platform::Custom`] is no platform and normalises nothing: 0.
pub fn platform_gain_db(platform: Platform, integrated_lufs: f32, true_peak_dbtp: f32) -> f32 {
    let s = platform.spec();
    normalisation_gain_db(s.policy, s.target_lufs, integrated_lufs, true_peak_dbtp)
}

/// [`platform_gain_db`] for every platform, indexed by `platform as usize`; the custom entry
/// is the distance to `custom_lufs`, up or down (what a normaliser aimed at the engineer's own
/// target would do). Allocation-free, for the meters.
pub fn all_platform_gains_db(
    integrated_lufs: f32,
    true_peak_dbtp: f32,
    custom_lufs: f32,
) -> [f32; PLATFORM_COUNT] {
    let mut gains = [0.0; PLATFORM_COUNT];
    for (gain, p) in gains.iter_mut().zip(Platform::ALL) {
        *gain = if p == Platform::Custom {
            normalisation_gain_db(
                Normalisation::UpAndDown,
                custom_lufs,
                integrated_lufs,
                true_peak_dbtp,
            )
        } else {
            platform_gain_db(p, integrated_lufs, true_peak_dbtp)
        };
    }
    gains
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_in_enum_order_and_ids_parse_back() {
        for (i, p) in Platform::ALL.into_iter().enumerate() {
            assert_eq!(p as usize, i);
            assert_eq!(PLATFORMS[i].platform, p);
            assert_eq!(p.id().parse::<Platform>(), Ok(p));
            assert_eq!(p.id().to_uppercase().parse::<Platform>(), Ok(p));
            assert_eq!(p.to_string(), p.id());
        }
        let e = "spotfy".parse::<Platform>().unwrap_err();
        assert!(e.to_string().contains("spotfy"), "{e}");
    }

    #[test]
    fn serde_names_are_the_ids() {
        #[derive(Serialize, Deserialize)]
        struct Row {
            p: Platform,
        }
        for p in Platform::ALL {
            let text = toml::to_string(&Row { p }).unwrap();
            assert_eq!(text.trim(), format!("p = \"{}\"", p.id()));
            let back: Row = toml::from_str(&text).unwrap();
            assert_eq!(back.p, p);
        }
    }

    #[test]
    fn reference_levels_are_the_published_ones() {
        let want = [
            (Platform::Spotify, -14.0),
            (Platform::AppleMusic, -16.0),
            (Platform::YouTube, -14.0),
            (Platform::Amazon, -14.0),
            (Platform::Tidal, -14.0),
            (Platform::Deezer, -15.0),
            (Platform::EbuR128, -23.0),
            (Platform::AtscA85, -24.0),
            (Platform::CdClub, -9.0),
        ];
        for (p, lufs) in want {
            assert_eq!(p.target_lufs(), lufs, "{p}");
        }
    }

    #[test]
    fn gains_match_hand_computed_cases() {
        // A loud master: -8 LUFS, -0.3 dBTP. Everyone but the CD turns it down.
        let cases = [
            (Platform::Spotify, -6.0),
            (Platform::AppleMusic, -8.0),
            (Platform::YouTube, -6.0),
            (Platform::Amazon, -6.0),
            (Platform::Tidal, -6.0),
            (Platform::Deezer, -7.0),
            (Platform::EbuR128, -15.0),
            (Platform::AtscA85, -16.0),
            (Platform::CdClub, 0.0),
            (Platform::Custom, 0.0),
        ];
        for (p, want) in cases {
            assert_eq!(platform_gain_db(p, -8.0, -0.3), want, "{p}");
        }
        // Spotify's own example: -20 LUFS with a -5 dBTP peak is lifted 4 dB, to -16 LUFS.
        assert_eq!(platform_gain_db(Platform::Spotify, -20.0, -5.0), 4.0);
        // With more headroom it gets the full 6 dB; with its peak at -1 dBTP, nothing.
        assert_eq!(platform_gain_db(Platform::Spotify, -20.0, -9.0), 6.0);
        assert_eq!(platform_gain_db(Platform::Spotify, -20.0, -1.0), 0.0);
        // A quiet track whose peak is already over -1 dBTP is left alone, not turned down.
        assert_eq!(platform_gain_db(Platform::Spotify, -18.0, 0.5), 0.0);
        // Apple: -20 LUFS at -3 dBTP goes up 2 dB (to -18), not the 4 dB to -16.
        assert_eq!(platform_gain_db(Platform::AppleMusic, -20.0, -3.0), 2.0);
        // The turn-down-only services leave a quiet master alone.
        for p in [
            Platform::YouTube,
            Platform::Tidal,
            Platform::Amazon,
            Platform::Deezer,
        ] {
            assert_eq!(platform_gain_db(p, -20.0, -10.0), 0.0, "{p}");
        }
        // Broadcast turns a quiet programme up by the full difference.
        assert_eq!(platform_gain_db(Platform::EbuR128, -27.5, -10.0), 4.5);
        assert_eq!(platform_gain_db(Platform::AtscA85, -20.0, -1.0), -4.0);
        // Nothing measured yet: nothing to normalise.
        assert_eq!(
            platform_gain_db(Platform::EbuR128, f32::NEG_INFINITY, -3.0),
            0.0
        );
    }

    #[test]
    fn the_meter_array_holds_every_platform_and_the_custom_distance() {
        let gains = all_platform_gains_db(-11.0, -1.2, -12.5);
        for p in Platform::ALL {
            if p != Platform::Custom {
                assert_eq!(gains[p as usize], platform_gain_db(p, -11.0, -1.2), "{p}");
            }
        }
        assert_eq!(gains[Platform::Custom as usize], -1.5);
    }
}
