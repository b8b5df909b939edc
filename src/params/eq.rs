//! The tonal EQ's parameters: high-pass, tilt, two shelves and three bells.

use nice_plug::prelude::*;

use super::{linear, skewed};
use crate::dsp::eq::{
    BellSettings, EqSettings, HpMode, ShelfSettings, BELL_FREQ_HZ, BELL_Q, EQ_AMOUNT_PCT,
    EQ_GAIN_DB, HIGH_SHELF_FREQ_HZ, HP_FREQ_HZ, LOW_SHELF_FREQ_HZ, SHELF_Q, TILT_DB,
};

/// The high-pass slope as the host shows it (nice-plug enums live on the plugin side; the DSP
/// keeps its own `HpMode`).
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum HighPass {
    #[name = "Off"]
    Off,
    #[name = "12 dB/oct"]
    Slope12,
    #[name = "24 dB/oct"]
    Slope24,
}

#[derive(Params)]
pub struct EqParams {
    #[id = "eq_hp"]
    pub hp_mode: EnumParam<HighPass>,
    #[id = "eq_hpf"]
    pub hp_freq_hz: FloatParam,
    #[id = "eq_tilt"]
    pub tilt_db: FloatParam,
    #[id = "eq_lsf"]
    pub low_shelf_freq_hz: FloatParam,
    #[id = "eq_lsg"]
    pub low_shelf_gain_db: FloatParam,
    #[id = "eq_lsq"]
    pub low_shelf_q: FloatParam,
    #[nested(array, group = "Bell")]
    pub bells: [BellParams; 3],
    #[id = "eq_hsf"]
    pub high_shelf_freq_hz: FloatParam,
    #[id = "eq_hsg"]
    pub high_shelf_gain_db: FloatParam,
    #[id = "eq_hsq"]
    pub high_shelf_q: FloatParam,
    /// The easy view's one EQ control: scales every gain and the tilt in dB.
    #[id = "eq_amt"]
    pub amount_pct: FloatParam,
}

#[derive(Params)]
pub struct BellParams {
    #[id = "eq_bf"]
    pub freq_hz: FloatParam,
    #[id = "eq_bg"]
    pub gain_db: FloatParam,
    #[id = "eq_bq"]
    pub q: FloatParam,
}

impl Default for EqParams {
    fn default() -> Self {
        let d = EqSettings::default();
        Self {
            hp_mode: EnumParam::new("High-pass", to_param(d.hp_mode)),
            hp_freq_hz: skewed("High-pass Freq".into(), HP_FREQ_HZ, " Hz", 1),
            tilt_db: linear("Tilt", TILT_DB, " dB", 0.01),
            low_shelf_freq_hz: skewed("Low Shelf Freq".into(), LOW_SHELF_FREQ_HZ, " Hz", 0),
            low_shelf_gain_db: linear("Low Shelf Gain", EQ_GAIN_DB, " dB", 0.01),
            low_shelf_q: skewed("Low Shelf Q".into(), SHELF_Q, "", 2),
            bells: std::array::from_fn(|i| BellParams {
                freq_hz: skewed(format!("Bell {} Freq", i + 1), BELL_FREQ_HZ[i], " Hz", 0),
                gain_db: linear(&format!("Bell {} Gain", i + 1), EQ_GAIN_DB, " dB", 0.01),
                q: skewed(format!("Bell {} Q", i + 1), BELL_Q, "", 2),
            }),
            high_shelf_freq_hz: skewed("High Shelf Freq".into(), HIGH_SHELF_FREQ_HZ, " Hz", 0),
            high_shelf_gain_db: linear("High Shelf Gain", EQ_GAIN_DB, " dB", 0.01),
            high_shelf_q: skewed("High Shelf Q".into(), SHELF_Q, "", 2),
            amount_pct: linear("EQ Amount", EQ_AMOUNT_PCT, " %", 0.1),
        }
    }
}

fn to_param(mode: HpMode) -> HighPass {
    match mode {
        HpMode::Off => HighPass::Off,
        HpMode::Slope12 => HighPass::Slope12,
        HpMode::Slope24 => HighPass::Slope24,
    }
}

impl EqParams {
    pub fn settings(&self) -> EqSettings {
        EqSettings {
            hp_mode: match self.hp_mode.value() {
                HighPass::Off => HpMode::Off,
                HighPass::Slope12 => HpMode::Slope12,
                HighPass::Slope24 => HpMode::Slope24,
            },
            hp_freq_hz: self.hp_freq_hz.value(),
            tilt_db: self.tilt_db.value(),
            amount_pct: self.amount_pct.value(),
            low_shelf: ShelfSettings {
                freq_hz: self.low_shelf_freq_hz.value(),
                gain_db: self.low_shelf_gain_db.value(),
                q: self.low_shelf_q.value(),
            },
            bells: std::array::from_fn(|i| BellSettings {
                freq_hz: self.bells[i].freq_hz.value(),
                gain_db: self.bells[i].gain_db.value(),
                q: self.bells[i].q.value(),
            }),
            high_shelf: ShelfSettings {
                freq_hz: self.high_shelf_freq_hz.value(),
                gain_db: self.high_shelf_gain_db.value(),
                q: self.high_shelf_q.value(),
            },
        }
    }
}
