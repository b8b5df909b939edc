//! The reference-match curve's parameters (`dsp::eq::match_curve`): the amount, which an
//! engineer rides and a host may automate, and the fitted section gains, which the editor's
//! reference loader writes (see `editor::reference`).
//!
//! The gains are parameters rather than private plugin state so that the curve travels with
//! everything else, with no extra machinery: the host saves them with the session, the
//! editor's Export writes them into the settings TOML, Import and `apply_settings` restore
//! them, and the audio thread reads them as it reads every other parameter (atomics, no
//! lock). They are flagged non-automatable: a fitted curve is one decision made from a file,
//! not 38 lanes to draw, and hosts then keep them out of their automation lists.

use nice_plug::prelude::*;

use super::linear;
use crate::dsp::eq::match_curve::{
    bell_freq_hz, side_freq_hz, MatchEqSettings, HIGH_SHELF_HZ, LOW_SHELF_HZ, MATCH_AMOUNT_PCT,
    MATCH_BELLS, MATCH_GAIN_DB, MATCH_SMOOTHING_OCT, SIDE_BANDS,
};

/// Permanent ids (the bells and side bands add `_1`, `_2`, ... as nice-plug numbers arrays).
pub mod ids {
    pub const AMOUNT: &str = "mt_amt";
    pub const SMOOTHING: &str = "mt_sm";
    pub const LOW_SHELF: &str = "mt_ls";
    pub const HIGH_SHELF: &str = "mt_hs";
    /// Prefix of the mid bells' ids: `mt_b_1` (31.25 Hz) to `mt_b_28` (16 kHz).
    pub const BELL: &str = "mt_b";
    /// Prefix of the side bells' ids: `mt_s_1` (62.5 Hz) to `mt_s_8` (8 kHz).
    pub const SIDE: &str = "mt_s";
}

#[derive(Params)]
pub struct MatchParams {
    /// How much of the fitted curve is applied, percent.
    #[id = "mt_amt"]
    pub amount_pct: FloatParam,
    /// How far the spectra are smoothed when the next reference is fitted, octaves. Not
    /// automatable: it shapes a fit made once from a file, and the audio never reads it.
    #[id = "mt_sm"]
    pub smoothing_oct: FloatParam,
    #[id = "mt_ls"]
    pub low_shelf_db: FloatParam,
    #[nested(array, group = "Match Bell")]
    pub bells: [MatchGainParam; MATCH_BELLS],
    #[id = "mt_hs"]
    pub high_shelf_db: FloatParam,
    #[nested(array, group = "Match Side")]
    pub side: [MatchSideParam; SIDE_BANDS],
}

/// One mid bell's gain at 100 %.
#[derive(Params)]
pub struct MatchGainParam {
    #[id = "mt_b"]
    pub gain_db: FloatParam,
}

/// One side-only bell's gain at 100 %.
#[derive(Params)]
pub struct MatchSideParam {
    #[id = "mt_s"]
    pub gain_db: FloatParam,
}

/// A section gain: the match range, 0.01 dB steps, not automatable.
fn gain(name: &str) -> FloatParam {
    linear(name, MATCH_GAIN_DB, " dB", 0.01).non_automatable()
}

/// A frequency as a short label: "31 Hz", "1.0 kHz".
fn hz_label(f: f64) -> String {
    if f < 1000.0 {
        format!("{f:.0} Hz")
    } else {
        format!("{:.1} kHz", f / 1000.0)
    }
}

impl Default for MatchParams {
    fn default() -> Self {
        Self {
            amount_pct: linear("Match Amount", MATCH_AMOUNT_PCT, " %", 0.1),
            smoothing_oct: linear("Match Smoothing", MATCH_SMOOTHING_OCT, " oct", 0.01)
                .non_automatable(),
            low_shelf_db: gain(&format!("Match Low Shelf {}", hz_label(LOW_SHELF_HZ))),
            bells: std::array::from_fn(|i| MatchGainParam {
                gain_db: gain(&format!("Match Bell {}", hz_label(bell_freq_hz(i)))),
            }),
            high_shelf_db: gain(&format!("Match High Shelf {}", hz_label(HIGH_SHELF_HZ))),
            side: std::array::from_fn(|i| MatchSideParam {
                gain_db: gain(&format!("Match Side {}", hz_label(side_freq_hz(i)))),
            }),
        }
    }
}

impl MatchParams {
    /// The current values as the DSP's settings (allocation-free: runs every block).
    pub fn settings(&self) -> MatchEqSettings {
        MatchEqSettings {
            amount_pct: self.amount_pct.value(),
            smoothing_oct: self.smoothing_oct.value(),
            low_shelf_db: self.low_shelf_db.value(),
            bells_db: std::array::from_fn(|i| self.bells[i].gain_db.value()),
            high_shelf_db: self.high_shelf_db.value(),
            side_db: std::array::from_fn(|i| self.side[i].gain_db.value()),
        }
    }

    /// Whether a curve is loaded (any section away from 0 dB), whatever the amount.
    pub fn has_curve(&self) -> bool {
        let s = self.settings();
        s.mid_gains_db().iter().chain(&s.side_db).any(|&g| g != 0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_the_defaults_are_the_dsp_defaults() {
        let p = MatchParams::default();
        assert_eq!(p.settings(), MatchEqSettings::default());
        assert!(!p.has_curve());
        let map = p.param_map();
        let mut names: Vec<String> = map
            .iter()
            .map(|(_, ptr, _)| unsafe { ptr.name() }.to_string())
            .collect();
        let n = names.len();
        assert_eq!(n, 2 + 2 + MATCH_BELLS + SIDE_BANDS);
        names.sort();
        names.dedup();
        assert_eq!(names.len(), n, "two match parameters share a name");
    }
}
