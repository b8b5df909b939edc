//! The plugin's parameters, mapped one to one onto [`ChainSettings`].
//!
//! Ranges and defaults come from `dsp::settings`, so the plugin and a settings file can never
//! disagree. Parameter ids are short and permanent: hosts store automation and presets under
//! them, so once released an id is never renamed or reused.

use nice_plug::prelude::*;

mod eq;
pub mod matching;
mod multiband;
pub mod state;
mod target;
pub mod travel;
pub use eq::{BellParams, EqParams, HighPass};
pub use matching::MatchParams;
pub use multiband::{BandParams, MultibandParams};
pub use target::TargetParams;

use crate::dsp::settings::{
    ChainSettings, InputSettings, LimiterSettings, LimiterStyle, MonitorSettings, OutputSettings,
    ParamRange, StereoSettings, CEILING_DBTP, DRIVE_DB, LOOKAHEAD_MS, MONO_BELOW_HZ,
    OUTPUT_GAIN_DB, RELEASE_MS, TRIM_DB, WIDTH_PCT,
};

/// Every parameter's id, as written into host sessions.
pub mod ids {
    pub const TRIM: &str = "in_trim";
    pub const WIDTH: &str = "st_width";
    pub const MONO_BELOW: &str = "st_mono";
    pub const MONO_BELOW_HZ: &str = "st_mono_hz";
    pub const STYLE: &str = "lim_style";
    pub const DRIVE: &str = "lim_drive";
    pub const CEILING: &str = "lim_ceil";
    pub const LOOKAHEAD: &str = "lim_look";
    pub const RELEASE: &str = "lim_rel";
    pub const AUTO_RELEASE: &str = "lim_auto";
    pub const OUTPUT_GAIN: &str = "out_gain";
    pub const AB_BYPASS: &str = "ab_bypass";
    pub const BYPASS: &str = "bypass";
    pub const TARGET_PRESET: &str = "tg_pre";
    pub const TARGET_LUFS: &str = "tg_lufs";
    pub const LEARN: &str = "tg_learn";
    /// Not a parameter: the persisted key of the learned gain.
    pub const LEARNED_GAIN_KEY: &str = "tg_learned";
}

#[derive(Params)]
pub struct LatheParams {
    #[nested(group = "Input")]
    pub input: InputParams,
    #[nested(group = "EQ")]
    pub eq: EqParams,
    /// The reference-match curve (`params::matching`).
    #[nested(group = "Match")]
    pub matching: MatchParams,
    #[nested(group = "Multiband")]
    pub multiband: MultibandParams,
    #[nested(group = "Stereo")]
    pub stereo: StereoParams,
    #[nested(group = "Limiter")]
    pub limiter: LimiterParams,
    #[nested(group = "Output")]
    pub output: OutputParams,
    #[nested(group = "Target")]
    pub target: TargetParams,
    /// A/B against the input at equal loudness.
    #[id = "ab_bypass"]
    pub ab_bypass: BoolParam,
    /// The host's bypass: flagged as such, so a DAW's bypass button drives it and the
    /// plugin keeps the track aligned (the input comes out delayed by the latency).
    #[id = "bypass"]
    pub bypass: BoolParam,
}

#[derive(Params)]
pub struct InputParams {
    #[id = "in_trim"]
    pub trim_db: FloatParam,
}

#[derive(Params)]
pub struct StereoParams {
    #[id = "st_width"]
    pub width_pct: FloatParam,
    #[id = "st_mono"]
    pub mono_below: BoolParam,
    #[id = "st_mono_hz"]
    pub mono_below_hz: FloatParam,
}

#[derive(Params)]
pub struct LimiterParams {
    /// How the stage gets loud: the transient clipper's style (`dsp::clipper`).
    #[id = "lim_style"]
    pub style: EnumParam<LimiterStyle>,
    #[id = "lim_drive"]
    pub drive_db: FloatParam,
    #[id = "lim_ceil"]
    pub ceiling_dbtp: FloatParam,
    #[id = "lim_look"]
    pub lookahead_ms: FloatParam,
    #[id = "lim_rel"]
    pub release_ms: FloatParam,
    #[id = "lim_auto"]
    pub auto_release: BoolParam,
}

#[derive(Params)]
pub struct OutputParams {
    #[id = "out_gain"]
    pub gain_db: FloatParam,
}

/// The style's permanent ids, as hosts store them.
const STYLE_IDS: [&str; 3] = ["transparent", "balanced", "loud"];
const STYLE_NAMES: [&str; 3] = ["Transparent", "Balanced", "Loud"];

/// Written by hand rather than derived: the DSP's `LimiterStyle` knows nothing of nice-plug.
impl Enum for LimiterStyle {
    fn variants() -> &'static [&'static str] {
        &STYLE_NAMES
    }

    fn ids() -> Option<&'static [&'static str]> {
        Some(&STYLE_IDS)
    }

    fn to_index(self) -> usize {
        self as usize
    }

    fn from_index(index: usize) -> Self {
        LimiterStyle::ALL.get(index).copied().unwrap_or_default()
    }
}

/// Shows a value with `digits` decimals, never as "-0.00": a host that converts the text back
/// would otherwise see a different value than it set.
pub(crate) fn display(digits: usize) -> std::sync::Arc<dyn Fn(f32) -> String + Send + Sync> {
    std::sync::Arc::new(move |v| {
        let text = format!("{v:.digits$}");
        match text.strip_prefix('-') {
            Some(rest) if rest.chars().all(|c| c == '0' || c == '.') => rest.to_string(),
            _ => text,
        }
    })
}

/// A parameter whose useful values spread over decades (frequencies, times, Q): skewed so
/// each octave or decade gets about the same travel of the knob.
pub(crate) fn skewed(
    name: String,
    range: ParamRange,
    unit: &'static str,
    digits: usize,
) -> FloatParam {
    FloatParam::new(
        name,
        range.default,
        FloatRange::Skewed {
            min: range.min,
            max: range.max,
            factor: FloatRange::skew_factor(-2.0),
        },
    )
    .with_unit(unit)
    .with_value_to_string(display(digits))
}

/// A linear parameter over `range`. No nice-plug smoother: the DSP smooths every gain itself,
/// so the renderer, which has no host, produces the same samples.
pub(crate) fn linear(name: &str, range: ParamRange, unit: &'static str, step: f32) -> FloatParam {
    FloatParam::new(
        name,
        range.default,
        FloatRange::Linear {
            min: range.min,
            max: range.max,
        },
    )
    .with_unit(unit)
    .with_step_size(step)
    .with_value_to_string(display(2))
}

impl Default for LatheParams {
    fn default() -> Self {
        Self {
            input: InputParams {
                trim_db: linear("Input Trim", TRIM_DB, " dB", 0.01),
            },
            eq: EqParams::default(),
            matching: MatchParams::default(),
            multiband: MultibandParams::default(),
            stereo: StereoParams {
                width_pct: linear("Width", WIDTH_PCT, " %", 0.1),
                mono_below: BoolParam::new("Mono Below", StereoSettings::default().mono_below),
                mono_below_hz: skewed("Mono Below Frequency".into(), MONO_BELOW_HZ, " Hz", 0),
            },
            limiter: LimiterParams {
                style: EnumParam::new("Style", LimiterSettings::default().style),
                drive_db: linear("Drive", DRIVE_DB, " dB", 0.01),
                ceiling_dbtp: linear("Ceiling", CEILING_DBTP, " dBTP", 0.01),
                lookahead_ms: linear("Look-ahead", LOOKAHEAD_MS, " ms", 0.01),
                // Release times are judged in ratios, so the knob is skewed toward short ones.
                release_ms: FloatParam::new(
                    "Release",
                    RELEASE_MS.default,
                    FloatRange::Skewed {
                        min: RELEASE_MS.min,
                        max: RELEASE_MS.max,
                        factor: FloatRange::skew_factor(-2.0),
                    },
                )
                .with_unit(" ms")
                .with_step_size(0.1)
                .with_value_to_string(display(1)),
                auto_release: BoolParam::new(
                    "Auto Release",
                    LimiterSettings::default().auto_release,
                ),
            },
            output: OutputParams {
                gain_db: linear("Output Gain", OUTPUT_GAIN_DB, " dB", 0.01),
            },
            target: TargetParams::default(),
            ab_bypass: BoolParam::new("A/B Bypass (matched)", false),
            bypass: BoolParam::new("Bypass", false).make_bypass(),
        }
    }
}

impl LatheParams {
    /// The current parameter values as the DSP's plain settings. Allocation-free, so it runs
    /// at the top of every process call.
    pub fn settings(&self) -> ChainSettings {
        ChainSettings {
            input: InputSettings {
                trim_db: self.input.trim_db.value(),
            },
            eq: self.eq.settings(),
            // Fitted from a reference file by the editor's loader, or imported from settings.
            match_eq: self.matching.settings(),
            multiband: self.multiband.settings(),
            stereo: StereoSettings {
                width_pct: self.stereo.width_pct.value(),
                mono_below: self.stereo.mono_below.value(),
                mono_below_hz: self.stereo.mono_below_hz.value(),
            },
            limiter: LimiterSettings {
                style: self.limiter.style.value(),
                drive_db: self.limiter.drive_db.value(),
                ceiling_dbtp: self.limiter.ceiling_dbtp.value(),
                lookahead_ms: self.limiter.lookahead_ms.value(),
                release_ms: self.limiter.release_ms.value(),
                auto_release: self.limiter.auto_release.value(),
            },
            output: OutputSettings {
                gain_db: self.output.gain_db.value(),
            },
            monitor: MonitorSettings {
                bypass: self.ab_bypass.value(),
                host_bypass: self.bypass.value(),
            },
            target: self.target.settings(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_map_onto_default_settings() {
        assert_eq!(LatheParams::default().settings(), ChainSettings::default());
    }

    #[test]
    fn values_never_show_as_negative_zero() {
        let show = display(2);
        assert_eq!(show(-0.0001), "0.00");
        assert_eq!(show(-0.5), "-0.50");
        assert_eq!(show(1.234), "1.23");
    }

    #[test]
    fn every_id_is_registered_once() {
        let params = LatheParams::default();
        let map = params.param_map();
        let registered: Vec<&str> = map.iter().map(|(id, _, _)| id.as_str()).collect();
        for id in [
            ids::TRIM,
            ids::WIDTH,
            ids::STYLE,
            ids::DRIVE,
            ids::CEILING,
            ids::LOOKAHEAD,
            ids::RELEASE,
            ids::AUTO_RELEASE,
            ids::OUTPUT_GAIN,
            ids::AB_BYPASS,
            ids::BYPASS,
            ids::MONO_BELOW,
            ids::MONO_BELOW_HZ,
            ids::TARGET_PRESET,
            ids::TARGET_LUFS,
            ids::LEARN,
        ] {
            assert_eq!(registered.iter().filter(|&&r| r == id).count(), 1, "{id}");
        }
        // Trim, width, the limiter's six, output gain and A/B: ten. Plus the multiband stage: 7 global (amount included) and 8 per band.
        // Plus the EQ: 10 global (amount included) and 3 per bell. Plus mono-below (2) and
        // the target (3). Plus the host's bypass. Plus the match curve: amount, smoothing,
        // 2 shelves, 28 bells, 8 side.
        assert_eq!(
            registered.len(),
            10 + 7 + 4 * 8 + 10 + 3 * 3 + 2 + 3 + 1 + (2 + 2 + 28 + 8)
        );
        assert!(params
            .serialize_fields()
            .contains_key(ids::LEARNED_GAIN_KEY));
        for id in [
            "mb_on",
            "mb_x1",
            "mb_thr_1",
            "mb_solo_4",
            "eq_hp",
            "eq_bg_3",
            "eq_hsq",
            matching::ids::AMOUNT,
            matching::ids::SMOOTHING,
            matching::ids::LOW_SHELF,
            matching::ids::HIGH_SHELF,
            "mt_b_1",
            "mt_b_28",
            "mt_s_1",
            "mt_s_8",
            "eq_amt",
            "mb_amt",
        ] {
            assert!(registered.contains(&id), "{id}");
        }
    }
}
