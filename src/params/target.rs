//! The loudness target's parameters: where the master is going (a platform preset or a
//! custom number) and the Learn switch. The learned gain is not a parameter (a host must not
//! automate it or reset it with the others) but persisted plugin state, written back by the
//! plugin while Learn runs (see `plugin.rs`).

use std::sync::Arc;

use atomic_float::AtomicF32;
use nice_plug::prelude::*;

use super::linear;
use crate::dsp::learn::{TargetSettings, LEARNED_GAIN_DB, TARGET_LUFS};
use crate::dsp::platforms::{Platform, PLATFORM_COUNT};

#[derive(Params)]
pub struct TargetParams {
    #[id = "tg_pre"]
    pub preset: EnumParam<Platform>,
    /// The target when the preset is Custom.
    #[id = "tg_lufs"]
    pub lufs: FloatParam,
    #[id = "tg_learn"]
    pub learn: BoolParam,
    /// The learned extra drive, dB: saved with the session, restored with it.
    #[persist = "tg_learned"]
    pub learned_gain_db: Arc<AtomicF32>,
}

/// Names shown for each preset, with its level so the engineer need not look it up.
const PRESET_NAMES: [&str; PLATFORM_COUNT] = [
    "Spotify (-14 LUFS)",
    "Apple Music (-16 LUFS)",
    "YouTube (-14 LUFS)",
    "Amazon Music (-14 LUFS)",
    "Tidal (-14 LUFS)",
    "Deezer (-15 LUFS)",
    "EBU R128 (-23 LUFS)",
    "ATSC A/85 (-24 LKFS)",
    "CD / club (-9 LUFS)",
    "Custom",
];

/// The permanent ids a host stores the preset under (the platform ids of `platforms.rs`).
const PRESET_IDS: [&str; PLATFORM_COUNT] = [
    "spotify", "apple", "youtube", "amazon", "tidal", "deezer", "ebu", "atsc", "cd", "custom",
];

/// Written by hand rather than derived: the DSP's `Platform` knows nothing of nice-plug.
impl Enum for Platform {
    fn variants() -> &'static [&'static str] {
        &PRESET_NAMES
    }

    fn ids() -> Option<&'static [&'static str]> {
        Some(&PRESET_IDS)
    }

    fn to_index(self) -> usize {
        self as usize
    }

    fn from_index(index: usize) -> Self {
        Platform::ALL.get(index).copied().unwrap_or_default()
    }
}

impl Default for TargetParams {
    fn default() -> Self {
        let d = TargetSettings::default();
        Self {
            preset: EnumParam::new("Target", d.preset),
            lufs: linear("Custom Target", TARGET_LUFS, " LUFS", 0.1),
            learn: BoolParam::new("Learn", d.learn),
            learned_gain_db: Arc::new(AtomicF32::new(d.learned_gain_db)),
        }
    }
}

impl TargetParams {
    pub fn settings(&self) -> TargetSettings {
        let learned = self
            .learned_gain_db
            .load(std::sync::atomic::Ordering::Relaxed);
        TargetSettings {
            preset: self.preset.value(),
            lufs: self.lufs.value(),
            learn: self.learn.value(),
            learned_gain_db: LEARNED_GAIN_DB.clamp(learned),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preset_ids_are_the_platform_ids() {
        for p in Platform::ALL {
            assert_eq!(PRESET_IDS[p as usize], p.id());
            assert_eq!(Platform::from_index(p.to_index()), p);
        }
    }

    #[test]
    fn the_learned_gain_is_saved_and_restored_with_the_state() {
        let params = TargetParams::default();
        params
            .learned_gain_db
            .store(3.25, std::sync::atomic::Ordering::Relaxed);
        let saved = params.serialize_fields();
        assert_eq!(saved.get("tg_learned").map(String::as_str), Some("3.25"));
        let reloaded = TargetParams::default();
        assert_eq!(reloaded.settings().learned_gain_db, 0.0);
        reloaded.deserialize_fields(&saved);
        assert_eq!(reloaded.settings().learned_gain_db, 3.25);
    }
}
