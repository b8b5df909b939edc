//! Settings of the stem stages: one `[stems.<role>]` section per stem in the render's
//! settings file, beside the chain's own sections.
//!
//! They live on the render side, not in `ChainSettings`: the plugin sits on one stereo bus
//! and never sees stems, so its `Copy` settings (and its parameter ids) stay as they are.
//! The DSP types are the bus's own: [`EqSettings`] for the EQ and [`MultibandSettings`] for
//! the compressor, with the same ranges, so a stem's EQ reads like the bus EQ.
//!
//! ```toml
//! [stems.vocal]
//! gain_db = 1.5
//! [stems.vocal.eq.high_shelf]
//! gain_db = 2.0
//! [stems.low.compressor]
//! enabled = true
//! ```

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::StemRole;
use crate::dsp::eq::EqSettings;
use crate::dsp::multiband::MultibandSettings;
use crate::dsp::settings::{ParamRange, SettingsError};
use crate::dsp::ChainSettings;
use crate::render::RenderError;

/// A stem's fader after its EQ and compressor, dB. -24 dB pulls a stem well under the
/// others; +12 dB is as far as a stem that was exported too low reasonably needs.
pub const STEM_GAIN_DB: ParamRange = ParamRange::new(-24.0, 12.0, 0.0);

/// One stem's stage: EQ → compressor → gain.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StemStageSettings {
    /// Off: the stem reaches the sum untouched, whatever the rest says.
    pub enabled: bool,
    pub gain_db: f32,
    pub eq: EqSettings,
    /// The bus's multiband compressor; off by default. With equal thresholds and ratios in
    /// its four bands it behaves as a broadband compressor with band-wise detection.
    pub compressor: MultibandSettings,
}

impl Default for StemStageSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            gain_db: STEM_GAIN_DB.default,
            eq: EqSettings::default(),
            compressor: MultibandSettings::default(),
        }
    }
}

impl StemStageSettings {
    /// Whether the stage returns its input bit for bit: off, or every part at its neutral
    /// setting (EQ flat, compressor off, 0 dB).
    pub fn is_neutral(&self) -> bool {
        !self.enabled
            || (self.gain_db == 0.0
                && self.eq.clamped() == neutral_eq(&self.eq)
                && !self.compressor.enabled)
    }

    /// Every continuous control with its name in the settings file
    /// (`stems.vocal.eq.bell1.gain_db`), its value and its range.
    pub fn controls(&self, role: StemRole) -> Vec<(String, f32, ParamRange)> {
        let prefix = format!("stems.{}", role.name());
        let mut out = vec![(format!("{prefix}.gain_db"), self.gain_db, STEM_GAIN_DB)];
        // The bus sections name themselves `eq.…` and `multiband.…`; here they sit under
        // the stem, and the compressor is called what it is used as.
        for (name, value, range) in self.eq.controls() {
            out.push((format!("{prefix}.{name}"), value, range));
        }
        for (name, value, range) in self.compressor.controls() {
            let name = name.replacen("multiband.", "compressor.", 1);
            out.push((format!("{prefix}.{name}"), value, range));
        }
        out
    }

    /// Every control in range (non-finite values take their defaults): what the DSP runs.
    pub fn clamped(&self) -> Self {
        Self {
            enabled: self.enabled,
            gain_db: STEM_GAIN_DB.clamp(self.gain_db),
            eq: self.eq.clamped(),
            compressor: self.compressor.clamped(),
        }
    }
}

/// `eq` with every gain at 0 dB, the high-pass off and the tilt at 0: the EQ then skips
/// every section (eq.rs, "Neutral is the identity"), whatever its frequencies.
fn neutral_eq(eq: &EqSettings) -> EqSettings {
    let mut n = eq.clamped();
    n.hp_mode = crate::dsp::eq::HpMode::Off;
    n.tilt_db = 0.0;
    n.low_shelf.gain_db = 0.0;
    n.high_shelf.gain_db = 0.0;
    for b in &mut n.bells {
        b.gain_db = 0.0;
    }
    n
}

/// The four stem stages, by role (the client's stem numbering: 1 rhythm, 2 harmony,
/// 3 low end, 4 main vocal).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StemsSettings {
    pub rhythm: StemStageSettings,
    pub harmony: StemStageSettings,
    pub low: StemStageSettings,
    pub vocal: StemStageSettings,
}

impl StemsSettings {
    pub fn get(&self, role: StemRole) -> &StemStageSettings {
        match role {
            StemRole::Rhythm => &self.rhythm,
            StemRole::Harmony => &self.harmony,
            StemRole::Low => &self.low,
            StemRole::Vocal => &self.vocal,
        }
    }

    pub fn get_mut(&mut self, role: StemRole) -> &mut StemStageSettings {
        match role {
            StemRole::Rhythm => &mut self.rhythm,
            StemRole::Harmony => &mut self.harmony,
            StemRole::Low => &mut self.low,
            StemRole::Vocal => &mut self.vocal,
        }
    }

    /// Checks every control against its range, as `ChainSettings::validate` does.
    pub fn validate(&self) -> Result<(), SettingsError> {
        for role in StemRole::ALL {
            for (field, value, range) in self.get(role).controls(role) {
                if !range.contains(value) {
                    return Err(SettingsError::OutOfRange {
                        field,
                        value,
                        min: range.min,
                        max: range.max,
                    });
                }
            }
        }
        Ok(())
    }

    pub fn clamped(&self) -> Self {
        Self {
            rhythm: self.rhythm.clamped(),
            harmony: self.harmony.clamped(),
            low: self.low.clamped(),
            vocal: self.vocal.clamped(),
        }
    }
}

/// A render's settings file: the chain's sections and, optionally, `[stems.<role>]`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RenderSettings {
    pub chain: ChainSettings,
    pub stems: StemsSettings,
}

impl RenderSettings {
    /// Parses and validates a settings file's text. The `stems` table is taken out first,
    /// so `ChainSettings` keeps refusing every key it does not know.
    pub fn from_toml(text: &str) -> Result<Self, SettingsError> {
        let mut table: toml::Table = toml::from_str(text)?;
        let stems = match table.remove("stems") {
            Some(value) => {
                let stems: StemsSettings = value.try_into()?;
                stems.validate()?;
                stems
            }
            None => StemsSettings::default(),
        };
        let chain = ChainSettings::from_toml(&toml::to_string(&table).unwrap_or_default())?;
        Ok(Self { chain, stems })
    }
}

/// Reads a settings file with optional `[stems.<role>]` sections.
pub fn load_render_settings(path: &Path) -> Result<RenderSettings, RenderError> {
    let text = std::fs::read_to_string(path).map_err(|e| RenderError::io(path, e))?;
    RenderSettings::from_toml(&text).map_err(|source| RenderError::Settings {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_neutral_and_in_range() {
        let s = StemsSettings::default();
        for role in StemRole::ALL {
            assert!(s.get(role).is_neutral());
            for (name, value, range) in s.get(role).controls(role) {
                assert!(range.contains(value), "{name}");
                assert!(
                    name.starts_with(&format!("stems.{}.", role.name())),
                    "{name}"
                );
            }
        }
        assert!(s.validate().is_ok());
    }

    #[test]
    fn a_settings_file_carries_stem_sections_beside_the_chain() {
        let text = "[limiter]\nceiling_dbtp = -1.5\n\n[stems.vocal]\ngain_db = 2.0\n\n\
                    [stems.vocal.eq.high_shelf]\ngain_db = 3.0\n\n[stems.low]\nenabled = false\n\n\
                    [stems.rhythm.compressor]\nenabled = true\n";
        let s = RenderSettings::from_toml(text).unwrap();
        assert_eq!(s.chain.limiter.ceiling_dbtp, -1.5);
        assert_eq!(s.stems.vocal.gain_db, 2.0);
        assert_eq!(s.stems.vocal.eq.high_shelf.gain_db, 3.0);
        assert_eq!(s.stems.vocal.eq.high_shelf.freq_hz, 10_000.0);
        assert!(!s.stems.vocal.is_neutral());
        assert!(!s.stems.low.enabled && s.stems.low.is_neutral());
        assert!(s.stems.rhythm.compressor.enabled && !s.stems.rhythm.is_neutral());
        assert!(s.stems.harmony.is_neutral());
        // A file without stems is a plain chain file.
        let plain = RenderSettings::from_toml("[limiter]\ndrive_db = 3.0\n").unwrap();
        assert_eq!(plain.stems, StemsSettings::default());
    }

    #[test]
    fn out_of_range_and_unknown_stem_keys_are_refused_by_name() {
        let err = RenderSettings::from_toml("[stems.vocal]\ngain_db = 40.0\n").unwrap_err();
        assert!(err.to_string().contains("stems.vocal.gain_db"), "{err}");
        let err =
            RenderSettings::from_toml("[stems.vocal.eq.bells]\n").expect_err("bells is a list");
        assert!(!err.to_string().is_empty());
        assert!(RenderSettings::from_toml("[stems.drums]\ngain_db = 1.0\n").is_err());
        assert!(RenderSettings::from_toml("[stems.vocal]\nvolume = 1.0\n").is_err());
        // The chain still refuses what it does not know.
        assert!(RenderSettings::from_toml("[limiter]\nknee = 1.0\n").is_err());
    }
}
