//! `ChainSettings`: the one contract between the plugin, the renderer and settings files.
//!
//! Every control lives here once, in natural units, with its range and default in a
//! [`ParamRange`] next to the field. The plugin's `Params` are built from these ranges, the
//! renderer reads the same struct from TOML, and [`ChainSettings::validate`] checks a file
//! against the same ranges, so the three can never disagree.

use serde::{Deserialize, Serialize};

/// Range and default of one continuous control, in the unit its name carries.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParamRange {
    pub min: f32,
    pub max: f32,
    pub default: f32,
}

impl ParamRange {
    pub const fn new(min: f32, max: f32, default: f32) -> Self {
        Self { min, max, default }
    }

    pub fn contains(&self, value: f32) -> bool {
        value.is_finite() && value >= self.min && value <= self.max
    }

    /// Clamps into the range; a non-finite value falls back to the default.
    pub fn clamp(&self, value: f32) -> f32 {
        if value.is_finite() {
            value.clamp(self.min, self.max)
        } else {
            self.default
        }
    }
}

/// Input trim before anything else, in dB.
pub const TRIM_DB: ParamRange = ParamRange::new(-24.0, 24.0, 0.0);
/// Side-channel gain of the stereo stage, in percent (100 % leaves the image alone).
pub const WIDTH_PCT: ParamRange = ParamRange::new(0.0, 200.0, 100.0);
/// Mono-below: the side signal is removed under this frequency, in Hz. 120 Hz keeps the kick
/// and bass centred and leaves the low-mid image; the range reaches from the sub-bass that
/// only club systems play (20 Hz) to the low mids (500 Hz), beyond which a mono image is an
/// effect rather than a fix.
pub const MONO_BELOW_HZ: ParamRange = ParamRange::new(20.0, 500.0, 120.0);
/// Gain into the limiter, in dB.
pub const DRIVE_DB: ParamRange = ParamRange::new(0.0, 24.0, 0.0);
/// Limiter ceiling, in dB true peak (ITU-R BS.1770-4 Annex 2).
pub const CEILING_DBTP: ParamRange = ParamRange::new(-6.0, 0.0, -1.0);
/// Limiter look-ahead, in ms: the length of the attack ramp (the latency is that of the
/// longest look-ahead, whatever is set). 6 ms: a smoother attack than 2 ms left less fast
/// residual at -9 LUFS on every shared mix and cost no pumping (bench-quality).
pub const LOOKAHEAD_MS: ParamRange = ParamRange::new(0.5, 10.0, 6.0);
/// Limiter release time constant, in ms. 40 ms: with the transient clipper taking the sharpest
/// peaks, a fast release keeps the music around the rest from being turned down (150 ms
/// pumped more and needed more drive for the same loudness; bench-quality).
pub const RELEASE_MS: ParamRange = ParamRange::new(1.0, 1000.0, 40.0);
/// The release while the automatic mode holds a steady tone down, in ms (`limiter.rs`,
/// `Steadiness`). 400 ms keeps a 50 Hz sine held 1 dB down under -60 dB THD+N; the 1.5 s used
/// before held the gain down long enough to make loud targets unreachable.
pub const AUTO_RELEASE_SLOW_MS: f32 = 400.0;
/// Output gain after the limiter, in dB. Never above 0 dB so the ceiling holds.
pub const OUTPUT_GAIN_DB: ParamRange = ParamRange::new(-24.0, 0.0, 0.0);

/// Settings of the whole chain, in signal-path order (see DESIGN.md).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChainSettings {
    pub input: InputSettings,
    pub eq: EqSettings,
    /// The reference-match curve, run right after the tonal EQ (`eq/match_curve.rs`).
    pub match_eq: MatchEqSettings,
    pub multiband: MultibandSettings,
    pub stereo: StereoSettings,
    pub limiter: LimiterSettings,
    pub output: OutputSettings,
    pub monitor: MonitorSettings,
    pub target: TargetSettings,
}

/// Listening aids that are not part of the master's sound.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MonitorSettings {
    /// A/B: play the input at the master's loudness instead of the master (see `bypass.rs`).
    pub bypass: bool,
    /// The host's bypass switch (CLAP `CLAP_PARAM_IS_BYPASS`, VST3 `kIsBypass`): the input,
    /// delayed by the latency, at unity gain. A host that finds this switch uses it instead of
    /// cutting the plugin out, so bypassing keeps the track aligned and does not click. It
    /// wins over the A/B switch.
    pub host_bypass: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InputSettings {
    pub trim_db: f32,
}

impl Default for InputSettings {
    fn default() -> Self {
        Self {
            trim_db: TRIM_DB.default,
        }
    }
}

/// The tonal EQ; its settings, ranges and defaults live next to the stage.
pub use super::eq::EqSettings;

/// The reference-match curve; ranges and defaults live next to the stage.
pub use super::eq::match_curve::MatchEqSettings;

pub use super::multiband::MultibandSettings;

/// The loudness target and the Learn mode's result; ranges and defaults live with the learner.
pub use super::learn::TargetSettings;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StereoSettings {
    pub width_pct: f32,
    /// Sum the low end to mono below `mono_below_hz` (see `stereo/mono_below.rs`).
    pub mono_below: bool,
    pub mono_below_hz: f32,
}

impl Default for StereoSettings {
    fn default() -> Self {
        Self {
            width_pct: WIDTH_PCT.default,
            mono_below: false,
            mono_below_hz: MONO_BELOW_HZ.default,
        }
    }
}

/// How the limiter stage reaches loudness (`clipper.rs`, `limiter_stage.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LimiterStyle {
    /// The true-peak limiter alone: every peak is answered by a dip of the gain.
    Transparent,
    /// Transients that stand well out of the music around them are clipped first, so the
    /// limiter does not turn the music down for them.
    #[default]
    Balanced,
    /// Clips closer to the music's level, for club loudness on dense mixes.
    Loud,
}

impl LimiterStyle {
    pub const ALL: [LimiterStyle; 3] = [Self::Transparent, Self::Balanced, Self::Loud];

    /// The transient clipper's shape for this style, or `None` for no clipping. Chosen by
    /// measurement (`cargo xtask bench-quality`, docs/development.md, Performance).
    pub fn clip_shape(self) -> Option<ClipShape> {
        match self {
            Self::Transparent => None,
            Self::Balanced => Some(ClipShape {
                crest_db: 6.5,
                cap_db: 6.0,
            }),
            Self::Loud => Some(ClipShape {
                crest_db: 4.5,
                cap_db: 3.0,
            }),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Transparent => "Transparent",
            Self::Balanced => "Balanced",
            Self::Loud => "Loud",
        }
    }
}

pub use super::clipper::ClipShape;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimiterSettings {
    /// How the stage gets loud: a transient clipper before the limiter, or not.
    pub style: LimiterStyle,
    pub drive_db: f32,
    pub ceiling_dbtp: f32,
    pub lookahead_ms: f32,
    pub release_ms: f32,
    /// Program-dependent release: `release_ms`, or [`AUTO_RELEASE_SLOW_MS`] while the limiter
    /// holds a steady tone down (see `limiter.rs`).
    pub auto_release: bool,
}

impl Default for LimiterSettings {
    fn default() -> Self {
        Self {
            style: LimiterStyle::default(),
            drive_db: DRIVE_DB.default,
            ceiling_dbtp: CEILING_DBTP.default,
            lookahead_ms: LOOKAHEAD_MS.default,
            release_ms: RELEASE_MS.default,
            auto_release: true,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutputSettings {
    pub gain_db: f32,
}

impl Default for OutputSettings {
    fn default() -> Self {
        Self {
            gain_db: OUTPUT_GAIN_DB.default,
        }
    }
}

/// Why a settings file was refused.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// On one line (where, then what): toml's own message draws the line with a caret under
    /// it, which a one-line refusal cannot hold (issue 18). Not a `source` either, so an
    /// error chain printed in full does not bring the multi-line report back.
    #[error("not a valid settings file: {}", one_line(.0))]
    Parse(toml::de::Error),
    #[error("`{field}` = {value} is outside its range {min} to {max}")]
    OutOfRange {
        field: String,
        value: f32,
        min: f32,
        max: f32,
    },
}

impl From<toml::de::Error> for SettingsError {
    fn from(e: toml::de::Error) -> Self {
        Self::Parse(e)
    }
}

/// `line 2, column 1: unknown field ...` from toml's multi-line report.
fn one_line(e: &toml::de::Error) -> String {
    let full = e.to_string();
    let place = full
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("TOML parse error at "))
        .map(|p| format!("{p}: "))
        .unwrap_or_default();
    let what: Vec<&str> = e.message().lines().map(str::trim).collect();
    format!("{place}{}", what.join("; "))
}

impl ChainSettings {
    /// Every continuous control with its name in the settings file, its value and its range.
    /// (Allocates: for validating files, not for the audio thread.)
    pub fn controls(&self) -> Vec<(String, f32, ParamRange)> {
        let mut all: Vec<(String, f32, ParamRange)> = [
            ("input.trim_db", self.input.trim_db, TRIM_DB),
            ("stereo.width_pct", self.stereo.width_pct, WIDTH_PCT),
            (
                "stereo.mono_below_hz",
                self.stereo.mono_below_hz,
                MONO_BELOW_HZ,
            ),
            ("limiter.drive_db", self.limiter.drive_db, DRIVE_DB),
            (
                "limiter.ceiling_dbtp",
                self.limiter.ceiling_dbtp,
                CEILING_DBTP,
            ),
            (
                "limiter.lookahead_ms",
                self.limiter.lookahead_ms,
                LOOKAHEAD_MS,
            ),
            ("limiter.release_ms", self.limiter.release_ms, RELEASE_MS),
            ("output.gain_db", self.output.gain_db, OUTPUT_GAIN_DB),
        ]
        .into_iter()
        .map(|(name, value, range)| (name.to_string(), value, range))
        .collect();
        all.extend(self.eq.controls());
        all.extend(self.match_eq.controls());
        all.extend(self.multiband.controls());
        all.extend(self.target.controls());
        all
    }

    /// Checks every control against its range; the error names the first one outside.
    pub fn validate(&self) -> Result<(), SettingsError> {
        for (field, value, range) in self.controls() {
            if !range.contains(value) {
                return Err(SettingsError::OutOfRange {
                    field,
                    value,
                    min: range.min,
                    max: range.max,
                });
            }
        }
        Ok(())
    }

    /// Parses and validates a settings file. Missing fields take their defaults; unknown
    /// fields are an error, so a typo never silently falls back to a default.
    pub fn from_toml(text: &str) -> Result<Self, SettingsError> {
        let settings: Self = toml::from_str(text)?;
        settings.validate()?;
        Ok(settings)
    }

    pub fn to_toml(&self) -> String {
        // Serialising plain structs of numbers cannot fail.
        toml::to_string(self).unwrap_or_default()
    }

    /// A copy with every control clamped into its range (what the DSP actually uses).
    pub fn clamped(&self) -> Self {
        Self {
            input: InputSettings {
                trim_db: TRIM_DB.clamp(self.input.trim_db),
            },
            eq: self.eq.clamped(),
            match_eq: self.match_eq.clamped(),
            multiband: self.multiband.clamped(),
            stereo: StereoSettings {
                width_pct: WIDTH_PCT.clamp(self.stereo.width_pct),
                mono_below: self.stereo.mono_below,
                mono_below_hz: MONO_BELOW_HZ.clamp(self.stereo.mono_below_hz),
            },
            limiter: LimiterSettings {
                style: self.limiter.style,
                drive_db: DRIVE_DB.clamp(self.limiter.drive_db),
                ceiling_dbtp: CEILING_DBTP.clamp(self.limiter.ceiling_dbtp),
                lookahead_ms: LOOKAHEAD_MS.clamp(self.limiter.lookahead_ms),
                release_ms: RELEASE_MS.clamp(self.limiter.release_ms),
                auto_release: self.limiter.auto_release,
            },
            output: OutputSettings {
                gain_db: OUTPUT_GAIN_DB.clamp(self.output.gain_db),
            },
            monitor: self.monitor,
            target: self.target.clamped(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_round_trip_keeps_every_value() {
        let mut s = ChainSettings::default();
        s.input.trim_db = -3.5;
        s.stereo.width_pct = 120.0;
        s.limiter.drive_db = 4.25;
        s.limiter.ceiling_dbtp = -0.3;
        s.limiter.lookahead_ms = 5.0;
        s.limiter.release_ms = 80.0;
        s.limiter.auto_release = false;
        s.output.gain_db = -0.5;
        s.multiband.enabled = true;
        s.multiband.crossovers_hz = [150.0, 900.0, 5000.0];
        s.multiband.bands[2].ratio = 3.0;
        s.multiband.bands[3].solo = true;
        s.stereo.mono_below = true;
        s.stereo.mono_below_hz = 95.5;
        s.target.preset = crate::dsp::platforms::Platform::Custom;
        s.target.lufs = -11.5;
        s.target.learn = true;
        s.target.learned_gain_db = 3.125;
        let back = ChainSettings::from_toml(&s.to_toml()).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn a_parse_error_is_one_line_with_its_place() {
        let e = ChainSettings::from_toml("[limiter]\nceilin_dbtp = -1\n").unwrap_err();
        let text = e.to_string();
        assert!(!text.contains('\n'), "{text}");
        assert!(std::error::Error::source(&e).is_none());
        assert!(
            text.contains("line 2, column 1: unknown field `ceilin_dbtp`"),
            "{text}"
        );
    }

    #[test]
    fn the_target_section_reads_as_written() {
        let s = ChainSettings::from_toml(
            "[target]\npreset = \"ebu\"\nlearned_gain_db = -4.5\n[stereo]\nmono_below = true\n",
        )
        .unwrap();
        assert_eq!(s.target.preset, crate::dsp::platforms::Platform::EbuR128);
        assert_eq!(s.target.target_lufs(), -23.0);
        assert_eq!(s.target.learned_gain_db, -4.5);
        assert!(!s.target.learn);
        assert!(s.stereo.mono_below);
        assert_eq!(s.stereo.mono_below_hz, MONO_BELOW_HZ.default);
        let e = ChainSettings::from_toml("[target]\npreset = \"spotfy\"\n").unwrap_err();
        assert!(e.to_string().contains("spotfy"), "{e}");
        let e = ChainSettings::from_toml("[target]\nlearned_gain_db = 99.0\n").unwrap_err();
        assert!(e.to_string().contains("target.learned_gain_db"), "{e}");
    }

    #[test]
    fn missing_fields_take_defaults() {
        let s = ChainSettings::from_toml("[limiter]\nceiling_dbtp = -2.0\n").unwrap();
        assert_eq!(s.limiter.ceiling_dbtp, -2.0);
        assert_eq!(s.limiter.release_ms, RELEASE_MS.default);
        assert_eq!(s.input, InputSettings::default());
    }

    #[test]
    fn out_of_range_and_unknown_fields_are_refused_by_name() {
        let e = ChainSettings::from_toml("[limiter]\nceiling_dbtp = 3.0\n").unwrap_err();
        assert!(e.to_string().contains("limiter.ceiling_dbtp"), "{e}");
        let e = ChainSettings::from_toml("[limiter]\nceilin_dbtp = -1.0\n").unwrap_err();
        assert!(e.to_string().contains("ceilin_dbtp"), "{e}");
    }

    #[test]
    fn multiband_fields_are_validated_by_name() {
        let mut s = ChainSettings::default();
        s.multiband.bands[1].ratio = 50.0;
        let e = s.validate().unwrap_err().to_string();
        assert!(e.contains("multiband.band2.ratio"), "{e}");
    }

    #[test]
    fn defaults_sit_inside_their_ranges() {
        ChainSettings::default().validate().unwrap();
    }
}
