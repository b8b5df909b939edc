//! Settings of the multiband compressor: fields in natural units, their ranges and defaults
//! next to them (DESIGN.md: defaults and ranges live next to the settings, once).

use serde::{Deserialize, Serialize};

use crate::dsp::settings::ParamRange;

/// Low crossover (band 1 | band 2), Hz.
pub const CROSSOVER_LOW_HZ: ParamRange = ParamRange::new(20.0, 20_000.0, 120.0);
/// Mid crossover (band 2 | band 3), Hz.
pub const CROSSOVER_MID_HZ: ParamRange = ParamRange::new(20.0, 20_000.0, 1_000.0);
/// High crossover (band 3 | band 4), Hz.
pub const CROSSOVER_HIGH_HZ: ParamRange = ParamRange::new(20.0, 20_000.0, 6_000.0);
/// The three crossover ranges, low to high.
pub const CROSSOVERS_HZ: [ParamRange; 3] = [CROSSOVER_LOW_HZ, CROSSOVER_MID_HZ, CROSSOVER_HIGH_HZ];

/// Smallest distance between neighbouring crossovers, in octaves; [`MultibandSettings::clamped`]
/// enforces it. Why one octave: the band between two LR4 crossovers has the magnitude
/// `w⁴/(1+w⁴) · 1/(1+v⁴)` (w, v: frequency over the two crossovers), so even at its centre it
/// only reaches −3.9 dB when the crossovers are an octave apart (−7 dB at half an octave,
/// −1 dB at two octaves). Closer than that a band's compressor mostly hears the skirts of
/// its neighbours. The sum of the bands stays flat at any spacing.
pub const MIN_CROSSOVER_SPACING_OCTAVES: f32 = 1.0;

/// Threshold of a band's compressor, dBFS of the detector level.
pub const BAND_THRESHOLD_DB: ParamRange = ParamRange::new(-60.0, 0.0, -20.0);
/// Compression ratio, n:1. 1 is neutral, hence the default.
pub const BAND_RATIO: ParamRange = ParamRange::new(1.0, 20.0, 1.0);
/// Width of the soft knee, dB (0: hard knee).
pub const BAND_KNEE_DB: ParamRange = ParamRange::new(0.0, 24.0, 6.0);
/// Attack time constant, ms. The floor is a few times the gain computer's control period
/// (about 0.17 ms, see `compressor.rs`), so the fastest attack is still shaped by the
/// detector rather than by the control rate.
pub const BAND_ATTACK_MS: ParamRange = ParamRange::new(0.5, 500.0, 10.0);
/// Release time constant, ms.
pub const BAND_RELEASE_MS: ParamRange = ParamRange::new(5.0, 5_000.0, 150.0);
/// Gain after the band's compressor, dB (negative values make the band a static cut).
pub const BAND_MAKEUP_DB: ParamRange = ParamRange::new(-24.0, 24.0, 0.0);

/// The compressor's amount, in percent: every band's gain reduction, in dB, is multiplied by
/// it. It scales the fraction of the overshoot a band takes away (1 − 1/ratio, the slope of
/// the gain computer, knee included), so a steady tone's gain reduction scales exactly:
/// 50 % halves it, 0 % removes all compression. What it leaves alone: makeup gains, band
/// bypass and solo, and the crossovers, so at 0 % an enabled stage is its crossovers' flat
/// sum with each band's makeup gain, a static multiband EQ (the makeup is a tone decision,
/// not compression). 100 % is the stage as set, bit for bit (the factor is exactly 1.0).
/// Above 100 % the slope is capped at 1 (∞:1, the band held at its threshold): a larger one
/// would make a louder input come out quieter, which is an effect, not more compression.
/// The amount glides with the other band parameters (10 ms).
pub const AMOUNT_PCT: ParamRange = ParamRange::new(0.0, 150.0, 100.0);

/// How the two channels drive the compressors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StereoMode {
    /// One gain per band for both channels, from the louder channel, so the image never
    /// moves.
    #[default]
    Linked,
    /// Mid (L+R)/2 and side (L−R)/2 compressed independently, each band with its own pair of
    /// gains.
    MidSide,
}

/// What level the compressors respond to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Detection {
    /// The instantaneous magnitude of the band signal.
    #[default]
    Peak,
    /// The mean square over a short window: a one-pole average of the squared band signal
    /// with a time constant of [`super::RMS_TIME_CONSTANT_MS`] (10 ms, an effective
    /// rectangular window of about 20 ms), so a sine reads 3 dB under its peak. Short
    /// enough to follow a mix's dynamics; a 100 Hz sine's level ripples by about ±0.35 dB
    /// in it, which the attack and release then smooth.
    Rms,
}

/// One band's compressor.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BandSettings {
    pub threshold_db: f32,
    pub ratio: f32,
    pub knee_db: f32,
    pub attack_ms: f32,
    pub release_ms: f32,
    pub makeup_db: f32,
    /// The band passes at unity gain (no compression, no makeup).
    pub bypass: bool,
    /// When any band is soloed, only soloed bands are heard.
    pub solo: bool,
}

impl Default for BandSettings {
    fn default() -> Self {
        Self {
            threshold_db: BAND_THRESHOLD_DB.default,
            ratio: BAND_RATIO.default,
            knee_db: BAND_KNEE_DB.default,
            attack_ms: BAND_ATTACK_MS.default,
            release_ms: BAND_RELEASE_MS.default,
            makeup_db: BAND_MAKEUP_DB.default,
            bypass: false,
            solo: false,
        }
    }
}

impl BandSettings {
    /// Every field clamped into range; non-finite values fall back to the default.
    pub fn clamped(&self) -> Self {
        Self {
            threshold_db: BAND_THRESHOLD_DB.clamp(self.threshold_db),
            ratio: BAND_RATIO.clamp(self.ratio),
            knee_db: BAND_KNEE_DB.clamp(self.knee_db),
            attack_ms: BAND_ATTACK_MS.clamp(self.attack_ms),
            release_ms: BAND_RELEASE_MS.clamp(self.release_ms),
            makeup_db: BAND_MAKEUP_DB.clamp(self.makeup_db),
            bypass: self.bypass,
            solo: self.solo,
        }
    }

    /// Neutral: the band passes unchanged whatever the level.
    pub fn is_neutral(&self) -> bool {
        self.bypass || (self.ratio == 1.0 && self.makeup_db == 0.0)
    }
}

/// The multiband compressor stage: three crossovers, four bands (band 1 lowest).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MultibandSettings {
    /// Off by default; when off the stage passes audio bit for bit and costs nothing.
    pub enabled: bool,
    /// Low, mid and high crossover, Hz.
    pub crossovers_hz: [f32; 3],
    pub mode: StereoMode,
    pub detection: Detection,
    /// See [`AMOUNT_PCT`]. Files and saved states written before it existed load at 100 %.
    pub amount_pct: f32,
    pub bands: [BandSettings; 4],
}

impl Default for MultibandSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            crossovers_hz: CROSSOVERS_HZ.map(|r| r.default),
            mode: StereoMode::default(),
            detection: Detection::default(),
            amount_pct: AMOUNT_PCT.default,
            bands: [BandSettings::default(); 4],
        }
    }
}

impl MultibandSettings {
    /// Every continuous control with its name in the settings file (bands and crossovers
    /// counted from 1, low to high), its value and its range, for validation and for the
    /// plugin's parameter list.
    pub fn controls(&self) -> Vec<(String, f32, ParamRange)> {
        let mut out = Vec::with_capacity(4 + 4 * 6);
        out.push((
            "multiband.amount_pct".to_string(),
            self.amount_pct,
            AMOUNT_PCT,
        ));
        for (i, (&hz, range)) in self.crossovers_hz.iter().zip(CROSSOVERS_HZ).enumerate() {
            out.push((format!("multiband.crossover{}_hz", i + 1), hz, range));
        }
        for (i, b) in self.bands.iter().enumerate() {
            let n = i + 1;
            out.extend([
                (
                    format!("multiband.band{n}.threshold_db"),
                    b.threshold_db,
                    BAND_THRESHOLD_DB,
                ),
                (format!("multiband.band{n}.ratio"), b.ratio, BAND_RATIO),
                (
                    format!("multiband.band{n}.knee_db"),
                    b.knee_db,
                    BAND_KNEE_DB,
                ),
                (
                    format!("multiband.band{n}.attack_ms"),
                    b.attack_ms,
                    BAND_ATTACK_MS,
                ),
                (
                    format!("multiband.band{n}.release_ms"),
                    b.release_ms,
                    BAND_RELEASE_MS,
                ),
                (
                    format!("multiband.band{n}.makeup_db"),
                    b.makeup_db,
                    BAND_MAKEUP_DB,
                ),
            ]);
        }
        out
    }

    /// A copy with every field in range (non-finite values take their defaults) and the
    /// crossovers sorted and at least [`MIN_CROSSOVER_SPACING_OCTAVES`] apart. Crossovers
    /// pushed past 20 kHz by the spacing are pulled back from the top instead. Idempotent.
    pub fn clamped(&self) -> Self {
        let mut hz = [0.0f32; 3];
        for (h, (&v, range)) in hz
            .iter_mut()
            .zip(self.crossovers_hz.iter().zip(CROSSOVERS_HZ))
        {
            *h = range.clamp(v);
        }
        hz.sort_by(f32::total_cmp);
        let spacing = MIN_CROSSOVER_SPACING_OCTAVES.exp2();
        let top = CROSSOVER_HIGH_HZ.max;
        hz[1] = hz[1].max(hz[0] * spacing);
        hz[2] = hz[2].max(hz[1] * spacing);
        if hz[2] > top {
            hz[2] = top;
            hz[1] = hz[1].min(hz[2] / spacing);
            hz[0] = hz[0].min(hz[1] / spacing);
        }
        Self {
            enabled: self.enabled,
            crossovers_hz: hz,
            mode: self.mode,
            detection: self.detection,
            amount_pct: AMOUNT_PCT.clamp(self.amount_pct),
            bands: self.bands.map(|b| b.clamped()),
        }
    }

    /// Whether the stage changes nothing but phase when enabled: every band at ratio 1 (or
    /// the amount at 0 %) and 0 dB makeup, or bypassed; and no solo.
    pub fn is_neutral(&self) -> bool {
        let no_compression = self.amount_pct == 0.0;
        self.bands
            .iter()
            .all(|b| (b.is_neutral() || (no_compression && b.makeup_db == 0.0)) && !b.solo)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_in_range_and_neutral() {
        let s = MultibandSettings::default();
        assert!(!s.enabled);
        assert!(s.is_neutral());
        for (name, value, range) in s.controls() {
            assert!(range.contains(value), "{name}");
            assert_eq!(value, range.default, "{name}");
        }
        assert_eq!(s.clamped(), s);
    }

    #[test]
    fn controls_are_named_for_the_settings_file() {
        let names: Vec<String> = MultibandSettings::default()
            .controls()
            .into_iter()
            .map(|c| c.0)
            .collect();
        assert_eq!(names.len(), 4 + 4 * 6);
        assert!(names.contains(&"multiband.amount_pct".to_string()));
        assert!(names.contains(&"multiband.band2.ratio".to_string()));
        assert!(names.contains(&"multiband.crossover3_hz".to_string()));
        assert!(names.contains(&"multiband.band4.makeup_db".to_string()));
    }

    #[test]
    fn clamping_sorts_spaces_and_replaces_non_finite_values() {
        let mut s = MultibandSettings {
            crossovers_hz: [5_000.0, 100.0, 150.0],
            ..Default::default()
        };
        s.bands[1].ratio = 100.0;
        s.bands[2].threshold_db = f32::NAN;
        s.bands[3].attack_ms = f32::INFINITY;
        let c = s.clamped();
        assert_eq!(c.crossovers_hz, [100.0, 200.0, 5_000.0]);
        assert_eq!(c.bands[1].ratio, 20.0);
        assert_eq!(c.bands[2].threshold_db, BAND_THRESHOLD_DB.default);
        assert_eq!(c.bands[3].attack_ms, BAND_ATTACK_MS.default);
        assert_eq!(c.clamped(), c);

        s.crossovers_hz = [19_000.0, 30_000.0, f32::NAN];
        let c = s.clamped();
        assert_eq!(c.crossovers_hz, [5_000.0, 10_000.0, 20_000.0]);
        let c2 = c.clamped();
        assert_eq!(c2, c);

        s.crossovers_hz = [19_000.0, 19_500.0, 20_000.0];
        let c = s.clamped();
        assert_eq!(c.crossovers_hz, [5_000.0, 10_000.0, 20_000.0]);
        for w in c.crossovers_hz.windows(2) {
            assert!(w[1] / w[0] >= 2.0);
        }
    }

    #[test]
    fn toml_round_trip_and_lower_case_enums() {
        let mut s = MultibandSettings {
            enabled: true,
            crossovers_hz: [90.0, 800.0, 7_000.0],
            mode: StereoMode::MidSide,
            detection: Detection::Rms,
            ..Default::default()
        };
        s.bands[2].ratio = 3.5;
        s.bands[0].solo = true;
        let text = toml::to_string(&s).unwrap();
        assert!(text.contains("\"mid_side\""), "{text}");
        assert!(text.contains("\"rms\""), "{text}");
        let back: MultibandSettings = toml::from_str(&text).unwrap();
        assert_eq!(back, s);
        let linked: MultibandSettings =
            toml::from_str("mode = \"linked\"\ndetection = \"peak\"\n").unwrap();
        assert_eq!(linked, MultibandSettings::default());
        assert!(toml::from_str::<MultibandSettings>("ratio = 2.0\n").is_err());
    }

    #[test]
    fn the_amount_is_written_read_and_defaults_to_100_percent() {
        let s = MultibandSettings {
            amount_pct: 62.5,
            ..Default::default()
        };
        let text = toml::to_string(&s).unwrap();
        assert!(text.contains("amount_pct = 62.5"), "{text}");
        assert_eq!(toml::from_str::<MultibandSettings>(&text).unwrap(), s);
        // A file from before the amount existed.
        let old: MultibandSettings = toml::from_str("enabled = true\n").unwrap();
        assert_eq!(old.amount_pct, 100.0);
        let mut squashed = MultibandSettings::default();
        squashed.bands[1].ratio = 4.0;
        assert!(!squashed.is_neutral());
        squashed.amount_pct = 0.0;
        assert!(squashed.is_neutral(), "no compression and no makeup");
        squashed.bands[1].makeup_db = 2.0;
        assert!(!squashed.is_neutral(), "the makeup stays");
        squashed.amount_pct = f32::NAN;
        assert_eq!(squashed.clamped().amount_pct, 100.0);
        squashed.amount_pct = 400.0;
        assert_eq!(squashed.clamped().amount_pct, 150.0);
    }
}
