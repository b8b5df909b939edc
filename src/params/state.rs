//! A plugin state, as a DAW saved it with a session, read back as [`ChainSettings`]: the one
//! contract the renderer takes (`cargo xtask render --settings`), so a master dialled in the
//! DAW renders offline to the same audio.
//!
//! nice-plug writes the state as JSON: every parameter's plain (unnormalised) value under its
//! permanent id, and the persisted fields (the learned gain) as JSON strings. Its own reader is
//! private to the wrapper, so the values are restored here the way it restores them, onto a
//! fresh [`LatheParams`], whose [`LatheParams::settings`] then maps them as the plugin does
//! at every block. Nothing is mapped twice.

use nice_plug::params::InternalParamMut;
use nice_plug::plugin::ParamValue;
use nice_plug::prelude::{ParamPtr, Params, PluginState};

use super::LatheParams;
use crate::dsp::ChainSettings;

/// Why a saved state could not be read.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// Not nice-plug's state JSON (or compressed, which Lathe's build does not enable).
    #[error("not a Lathe plugin state: {0}")]
    NotAState(String),
    /// A parameter id Lathe does not have, or a value of the wrong kind for it: a state from
    /// another plugin or from a newer Lathe.
    #[error("parameter '{id}': {problem}")]
    Parameter { id: String, problem: String },
}

/// The settings a plugin state holds, from the bytes a host saved: the CLAP state stream
/// (nice-plug writes the JSON's length as a little-endian u64, then the JSON) or the VST3 one
/// (the JSON alone).
pub fn settings_from_saved_state(bytes: &[u8]) -> Result<ChainSettings, StateError> {
    let json = match bytes.split_first_chunk::<8>() {
        Some((length, rest)) if u64::from_le_bytes(*length) == rest.len() as u64 => rest,
        _ => bytes,
    };
    let state: PluginState =
        serde_json::from_slice(json).map_err(|e| StateError::NotAState(e.to_string()))?;
    settings_from_state(&state)
}

/// The settings `state` holds. Parameters it leaves out keep their defaults, as a host
/// loading an older session would have them.
pub fn settings_from_state(state: &PluginState) -> Result<ChainSettings, StateError> {
    let params = LatheParams::default();
    restore(&params, state)?;
    Ok(params.settings())
}

/// Sets every parameter `state` names on `params`. Unlike a host, which skips what it does
/// not know, an unknown id is an error: a settings file must not silently differ from the
/// session it came from.
fn restore(params: &LatheParams, state: &PluginState) -> Result<(), StateError> {
    let map = params.param_map();
    for (id, value) in &state.params {
        let problem = |problem: &str| StateError::Parameter {
            id: id.clone(),
            problem: problem.to_owned(),
        };
        let (_, ptr, _) = map
            .iter()
            .find(|(known, _, _)| known == id)
            .ok_or_else(|| problem("not a Lathe parameter"))?;
        // SAFETY: the pointers come from `params.param_map()` and `params` outlives this
        // loop; nothing else reads these parameters while they are set (no audio thread).
        let set = unsafe {
            match (*ptr, value) {
                (ParamPtr::FloatParam(p), ParamValue::F32(v)) if v.is_finite() => {
                    (*p)._internal_set_plain_value(*v);
                    true
                }
                (ParamPtr::IntParam(p), ParamValue::I32(v)) => {
                    (*p)._internal_set_plain_value(*v);
                    true
                }
                (ParamPtr::BoolParam(p), ParamValue::Bool(v)) => {
                    (*p)._internal_set_plain_value(*v);
                    true
                }
                (ParamPtr::EnumParam(p), ParamValue::I32(index)) => {
                    (*p)._internal_set_plain_value(*index);
                    true
                }
                (ParamPtr::EnumParam(p), ParamValue::String(variant)) => (*p).set_from_id(variant),
                _ => false,
            }
        };
        if !set {
            return Err(problem(&format!("{value:?} is not a value it takes")));
        }
    }
    params.deserialize_fields(&state.fields);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(params: &[(&str, ParamValue)]) -> PluginState {
        PluginState {
            version: String::new(),
            params: params
                .iter()
                .map(|(id, v)| (id.to_string(), v.clone()))
                .collect(),
            fields: Default::default(),
        }
    }

    #[test]
    fn an_empty_state_is_the_default_settings() {
        let s = settings_from_state(&state(&[])).unwrap();
        assert_eq!(s, ChainSettings::default());
    }

    #[test]
    fn values_land_in_their_settings_and_the_learned_gain_comes_along() {
        let mut st = state(&[
            (super::super::ids::DRIVE, ParamValue::F32(4.5)),
            (super::super::ids::MONO_BELOW, ParamValue::Bool(true)),
            (super::super::ids::CEILING, ParamValue::F32(-2.0)),
        ]);
        st.fields.insert(
            super::super::ids::LEARNED_GAIN_KEY.to_owned(),
            "1.75".to_owned(),
        );
        let s = settings_from_state(&st).unwrap();
        assert_eq!(s.limiter.drive_db, 4.5);
        assert_eq!(s.limiter.ceiling_dbtp, -2.0);
        assert!(s.stereo.mono_below);
        assert_eq!(s.target.learned_gain_db, 1.75);
    }

    #[test]
    fn the_match_curve_travels_in_the_state() {
        let s = settings_from_state(&state(&[
            ("mt_amt", ParamValue::F32(40.0)),
            ("mt_sm", ParamValue::F32(1.25)),
            ("mt_ls", ParamValue::F32(1.5)),
            ("mt_b_5", ParamValue::F32(-3.25)),
            ("mt_hs", ParamValue::F32(-2.0)),
            ("mt_s_8", ParamValue::F32(0.75)),
        ]))
        .unwrap();
        let m = s.match_eq;
        assert_eq!(m.amount_pct, 40.0);
        assert_eq!(m.smoothing_oct, 1.25);
        assert_eq!(m.low_shelf_db, 1.5);
        assert_eq!(m.bells_db[4], -3.25);
        assert_eq!(m.high_shelf_db, -2.0);
        assert_eq!(m.side_db[7], 0.75);
        assert_eq!(m.bells_db.iter().filter(|&&g| g != 0.0).count(), 1);
    }

    #[test]
    fn unknown_ids_wrong_kinds_and_garbage_are_refused_by_name() {
        let e = settings_from_state(&state(&[("nope", ParamValue::F32(1.0))])).unwrap_err();
        assert!(e.to_string().contains("'nope'"), "{e}");
        let e = settings_from_state(&state(&[(
            super::super::ids::DRIVE,
            ParamValue::Bool(true),
        )]))
        .unwrap_err();
        assert!(e.to_string().contains(super::super::ids::DRIVE), "{e}");
        assert!(settings_from_saved_state(b"{ not json").is_err());
    }

    #[test]
    fn the_clap_and_vst3_streams_read_alike() {
        let json = br#"{"version":"0.1.0","params":{"lim_drive":{"f32":3.0}},"fields":{}}"#;
        let mut clap = (json.len() as u64).to_le_bytes().to_vec();
        clap.extend_from_slice(json);
        let from_vst3 = settings_from_saved_state(json).unwrap();
        assert_eq!(from_vst3.limiter.drive_db, 3.0);
        assert_eq!(settings_from_saved_state(&clap).unwrap(), from_vst3);
    }
}
