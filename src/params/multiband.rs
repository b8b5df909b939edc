//! The multiband compressor's parameters: a switch, three crossovers, the stereo and detection
//! modes, and one group of controls per band (ids suffixed `_1` to `_4` by nice-plug's
//! parameter arrays).

use nice_plug::prelude::*;

use super::{linear, skewed};
use crate::dsp::multiband::{
    BandSettings, Detection, MultibandSettings, StereoMode, AMOUNT_PCT, BAND_ATTACK_MS,
    BAND_KNEE_DB, BAND_MAKEUP_DB, BAND_RATIO, BAND_RELEASE_MS, BAND_THRESHOLD_DB, CROSSOVERS_HZ,
};

#[derive(Params)]
pub struct MultibandParams {
    #[id = "mb_on"]
    pub enabled: BoolParam,
    #[id = "mb_x1"]
    pub crossover_low_hz: FloatParam,
    #[id = "mb_x2"]
    pub crossover_mid_hz: FloatParam,
    #[id = "mb_x3"]
    pub crossover_high_hz: FloatParam,
    /// Off: linked stereo; on: mid/side.
    #[id = "mb_ms"]
    pub mid_side: BoolParam,
    /// Off: peak detection; on: RMS.
    #[id = "mb_rms"]
    pub rms: BoolParam,
    /// The easy view's one multiband control: scales every band's gain reduction in dB.
    #[id = "mb_amt"]
    pub amount_pct: FloatParam,
    #[nested(array, group = "Band")]
    pub bands: [BandParams; 4],
}

#[derive(Params)]
pub struct BandParams {
    #[id = "mb_thr"]
    pub threshold_db: FloatParam,
    #[id = "mb_ratio"]
    pub ratio: FloatParam,
    #[id = "mb_knee"]
    pub knee_db: FloatParam,
    #[id = "mb_att"]
    pub attack_ms: FloatParam,
    #[id = "mb_rel"]
    pub release_ms: FloatParam,
    #[id = "mb_mkup"]
    pub makeup_db: FloatParam,
    #[id = "mb_byp"]
    pub bypass: BoolParam,
    #[id = "mb_solo"]
    pub solo: BoolParam,
}

impl Default for MultibandParams {
    fn default() -> Self {
        let defaults = MultibandSettings::default();
        let crossover =
            |n: usize| skewed(format!("Crossover {}", n + 1), CROSSOVERS_HZ[n], " Hz", 0);
        Self {
            enabled: BoolParam::new("Multiband", defaults.enabled),
            crossover_low_hz: crossover(0),
            crossover_mid_hz: crossover(1),
            crossover_high_hz: crossover(2),
            mid_side: BoolParam::new("Multiband Mid/Side", defaults.mode == StereoMode::MidSide),
            rms: BoolParam::new("Multiband RMS", defaults.detection == Detection::Rms),
            amount_pct: linear("Multiband Amount", AMOUNT_PCT, " %", 0.1),
            bands: std::array::from_fn(|i| BandParams::new(i + 1, &defaults.bands[i])),
        }
    }
}

impl BandParams {
    fn new(band: usize, d: &BandSettings) -> Self {
        let name = |what: &str| format!("Band {band} {what}");
        Self {
            threshold_db: linear(&name("Threshold"), BAND_THRESHOLD_DB, " dB", 0.1),
            ratio: linear(&name("Ratio"), BAND_RATIO, ":1", 0.01),
            knee_db: linear(&name("Knee"), BAND_KNEE_DB, " dB", 0.1),
            attack_ms: skewed(name("Attack"), BAND_ATTACK_MS, " ms", 1),
            release_ms: skewed(name("Release"), BAND_RELEASE_MS, " ms", 0),
            makeup_db: linear(&name("Makeup"), BAND_MAKEUP_DB, " dB", 0.1),
            bypass: BoolParam::new(name("Bypass"), d.bypass),
            solo: BoolParam::new(name("Solo"), d.solo),
        }
    }

    fn settings(&self) -> BandSettings {
        BandSettings {
            threshold_db: self.threshold_db.value(),
            ratio: self.ratio.value(),
            knee_db: self.knee_db.value(),
            attack_ms: self.attack_ms.value(),
            release_ms: self.release_ms.value(),
            makeup_db: self.makeup_db.value(),
            bypass: self.bypass.value(),
            solo: self.solo.value(),
        }
    }
}

impl MultibandParams {
    pub fn settings(&self) -> MultibandSettings {
        MultibandSettings {
            enabled: self.enabled.value(),
            crossovers_hz: [
                self.crossover_low_hz.value(),
                self.crossover_mid_hz.value(),
                self.crossover_high_hz.value(),
            ],
            mode: if self.mid_side.value() {
                StereoMode::MidSide
            } else {
                StereoMode::Linked
            },
            detection: if self.rms.value() {
                Detection::Rms
            } else {
                Detection::Peak
            },
            amount_pct: self.amount_pct.value(),
            bands: std::array::from_fn(|i| self.bands[i].settings()),
        }
    }
}
