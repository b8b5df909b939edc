//! Settings travel: the one mapping from a [`ChainSettings`] value back onto the plugin's
//! parameters (the other direction is [`LatheParams::settings`]). The editor's Import button
//! uses it with a `ParamSetter`, so every change reaches the host as a begin/set/end gesture
//! (recorded as automation when the host records); tests can use any other [`SetParam`].

use std::sync::atomic::Ordering;

use nice_plug::prelude::*;

use super::eq::HighPass;
use super::LatheParams;
use crate::dsp::eq::HpMode;
use crate::dsp::multiband::{Detection, StereoMode};
use crate::dsp::settings::{ChainSettings, SettingsError};

/// Something that can move a parameter to a plain value.
pub trait SetParam {
    fn set<P: Param>(&self, param: &P, value: P::Plain);
}

/// The GUI's setter: one whole gesture per parameter, as if the engineer had moved it.
impl SetParam for ParamSetter<'_> {
    fn set<P: Param>(&self, param: &P, value: P::Plain) {
        self.begin_set_parameter(param);
        self.set_parameter(param, value);
        self.end_set_parameter(param);
    }
}

/// Validates `settings` and moves every parameter to it. Nothing is set when the settings
/// are invalid. The monitor switches (A/B and the host's bypass) are listening aids, not part
/// of a master, and are left as they are. The learned gain is plugin state, not a parameter:
/// it is stored directly, and the plugin overwrites it again only while Learn runs.
pub fn apply_settings(
    params: &LatheParams,
    settings: &ChainSettings,
    setter: &impl SetParam,
) -> Result<(), SettingsError> {
    settings.validate()?;
    let s = settings;
    setter.set(&params.input.trim_db, s.input.trim_db);

    let eq = &params.eq;
    setter.set(
        &eq.hp_mode,
        match s.eq.hp_mode {
            HpMode::Off => HighPass::Off,
            HpMode::Slope12 => HighPass::Slope12,
            HpMode::Slope24 => HighPass::Slope24,
        },
    );
    setter.set(&eq.hp_freq_hz, s.eq.hp_freq_hz);
    setter.set(&eq.tilt_db, s.eq.tilt_db);
    setter.set(&eq.low_shelf_freq_hz, s.eq.low_shelf.freq_hz);
    setter.set(&eq.low_shelf_gain_db, s.eq.low_shelf.gain_db);
    setter.set(&eq.low_shelf_q, s.eq.low_shelf.q);
    for (p, b) in eq.bells.iter().zip(&s.eq.bells) {
        setter.set(&p.freq_hz, b.freq_hz);
        setter.set(&p.gain_db, b.gain_db);
        setter.set(&p.q, b.q);
    }
    setter.set(&eq.high_shelf_freq_hz, s.eq.high_shelf.freq_hz);
    setter.set(&eq.high_shelf_gain_db, s.eq.high_shelf.gain_db);
    setter.set(&eq.high_shelf_q, s.eq.high_shelf.q);
    setter.set(&eq.amount_pct, s.eq.amount_pct);

    let mt = &params.matching;
    setter.set(&mt.amount_pct, s.match_eq.amount_pct);
    setter.set(&mt.smoothing_oct, s.match_eq.smoothing_oct);
    setter.set(&mt.low_shelf_db, s.match_eq.low_shelf_db);
    for (p, g) in mt.bells.iter().zip(&s.match_eq.bells_db) {
        setter.set(&p.gain_db, *g);
    }
    setter.set(&mt.high_shelf_db, s.match_eq.high_shelf_db);
    for (p, g) in mt.side.iter().zip(&s.match_eq.side_db) {
        setter.set(&p.gain_db, *g);
    }

    let mb = &params.multiband;
    setter.set(&mb.enabled, s.multiband.enabled);
    setter.set(&mb.crossover_low_hz, s.multiband.crossovers_hz[0]);
    setter.set(&mb.crossover_mid_hz, s.multiband.crossovers_hz[1]);
    setter.set(&mb.crossover_high_hz, s.multiband.crossovers_hz[2]);
    setter.set(&mb.mid_side, s.multiband.mode == StereoMode::MidSide);
    setter.set(&mb.rms, s.multiband.detection == Detection::Rms);
    setter.set(&mb.amount_pct, s.multiband.amount_pct);
    for (p, b) in mb.bands.iter().zip(&s.multiband.bands) {
        setter.set(&p.threshold_db, b.threshold_db);
        setter.set(&p.ratio, b.ratio);
        setter.set(&p.knee_db, b.knee_db);
        setter.set(&p.attack_ms, b.attack_ms);
        setter.set(&p.release_ms, b.release_ms);
        setter.set(&p.makeup_db, b.makeup_db);
        setter.set(&p.bypass, b.bypass);
        setter.set(&p.solo, b.solo);
    }

    let st = &params.stereo;
    setter.set(&st.width_pct, s.stereo.width_pct);
    setter.set(&st.mono_below, s.stereo.mono_below);
    setter.set(&st.mono_below_hz, s.stereo.mono_below_hz);

    let lim = &params.limiter;
    setter.set(&lim.style, s.limiter.style);
    setter.set(&lim.drive_db, s.limiter.drive_db);
    setter.set(&lim.ceiling_dbtp, s.limiter.ceiling_dbtp);
    setter.set(&lim.lookahead_ms, s.limiter.lookahead_ms);
    setter.set(&lim.release_ms, s.limiter.release_ms);
    setter.set(&lim.auto_release, s.limiter.auto_release);
    setter.set(&params.output.gain_db, s.output.gain_db);

    let tg = &params.target;
    setter.set(&tg.preset, s.target.preset);
    setter.set(&tg.lufs, s.target.lufs);
    setter.set(&tg.learn, s.target.learn);
    tg.learned_gain_db
        .store(s.target.learned_gain_db, Ordering::Relaxed);
    Ok(())
}

/// The settings file text for the current parameters. The monitor switches are written as
/// off: an A/B or bypass left on while exporting must not render a bypassed master.
pub fn export_toml(params: &LatheParams) -> String {
    let mut settings = params.settings();
    settings.monitor = Default::default();
    toml::to_string_pretty(&settings).unwrap_or_default()
}

/// Parses and validates a settings file's text (errors are values for the editor to show).
pub fn parse_toml(text: &str) -> Result<ChainSettings, SettingsError> {
    ChainSettings::from_toml(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exported_file_reads_back_as_the_same_settings() {
        let params = LatheParams::default();
        let text = export_toml(&params);
        let back = parse_toml(&text).expect("valid settings");
        assert_eq!(back, params.settings());
        // Pretty-printed: one table per stage, as a person would edit it.
        assert!(text.contains("[limiter]\n"), "{text}");
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

    #[test]
    fn a_match_curve_is_applied_and_exported() {
        let mut wanted = ChainSettings::default();
        wanted.match_eq.amount_pct = 55.0;
        wanted.match_eq.smoothing_oct = 0.75;
        wanted.match_eq.low_shelf_db = 2.5;
        wanted.match_eq.bells_db[10] = -4.0;
        wanted.match_eq.high_shelf_db = -1.5;
        wanted.match_eq.side_db[3] = 3.0;
        let params = LatheParams::default();
        apply_settings(&params, &wanted, &HostLike).unwrap();
        let got = params.settings().match_eq;
        let close = |a: f32, b: f32| (a - b).abs() < 1e-4;
        assert!(close(got.amount_pct, 55.0), "{got:?}");
        assert!(close(got.smoothing_oct, 0.75), "{got:?}");
        assert!(close(got.low_shelf_db, 2.5) && close(got.bells_db[10], -4.0));
        assert!(close(got.high_shelf_db, -1.5) && close(got.side_db[3], 3.0));
        let back = parse_toml(&export_toml(&params)).unwrap();
        assert_eq!(back.match_eq, got, "the exported file carries the curve");
    }

    #[test]
    fn an_invalid_file_is_an_error_not_a_panic() {
        assert!(parse_toml("[limiter]\nceiling_dbtp = 3.0\n").is_err());
        assert!(parse_toml("[limiter]\nceilng_dbtp = -1.0\n").is_err());
        assert!(parse_toml("not toml at all [").is_err());
    }
}
