//! The plugin's saved state, as a host hands it back when a session is reopened: JSON bytes
//! that nice-plug 0.4.2 (without its zstd feature) reads as a `PluginState` and applies to the
//! parameters (`wrapper::state::deserialize_json` and `deserialize_object`, which are private
//! to nice-plug, so `restore` below does what they do). Whatever the bytes, restoring never
//! panics, and the chain then runs on the restored settings with finite output under their
//! ceiling.
#![no_main]

use std::cell::RefCell;
use std::sync::Arc;

use lathe::dsp::{Chain, Meters};
use lathe::params::LatheParams;
use libfuzzer_sys::fuzz_target;
use nice_plug::params::internals::ParamPtr;
use nice_plug::params::{InternalParamMut, Params};
use nice_plug::plugin::{ParamValue, PluginState};

/// nice-plug's `deserialize_object`, minus its debug logging.
fn restore(state: &PluginState, params: &Arc<LatheParams>) {
    let map = params.param_map();
    for (id, value) in &state.params {
        let Some((_, ptr, _)) = map.iter().find(|(pid, _, _)| pid == id) else {
            continue;
        };
        // SAFETY: the pointers come from `param_map` of `params`, which outlives this call.
        unsafe {
            match (*ptr, value) {
                (ParamPtr::FloatParam(p), ParamValue::F32(v)) => {
                    (*p)._internal_set_plain_value(*v);
                }
                (ParamPtr::IntParam(p), ParamValue::I32(v)) => {
                    (*p)._internal_set_plain_value(*v);
                }
                (ParamPtr::BoolParam(p), ParamValue::Bool(v)) => {
                    (*p)._internal_set_plain_value(*v);
                }
                (ParamPtr::EnumParam(p), ParamValue::I32(v)) => {
                    (*p)._internal_set_plain_value(*v);
                }
                (ParamPtr::EnumParam(p), ParamValue::String(id)) => {
                    (*p).set_from_id(id);
                }
                _ => {}
            }
            ptr._internal_update_smoother(48_000.0, true);
        }
    }
    params.deserialize_fields(&state.fields);
}

thread_local! {
    static CHAIN: RefCell<Chain> = RefCell::new({
        let mut chain = Chain::new();
        chain.prepare(48_000.0, 1024);
        chain
    });
}

fuzz_target!(|data: &[u8]| {
    let Ok(state) = serde_json::from_slice::<PluginState>(data) else {
        return;
    };
    let params = Arc::new(LatheParams::default());
    restore(&state, &params);
    let settings = params.settings();
    // Full-scale square waves, out of phase: the hardest steady signal for the limiter.
    let mut left: Vec<f32> = (0..2048)
        .map(|n| if (n / 37) % 2 == 0 { 1.0 } else { -1.0 })
        .collect();
    let mut right: Vec<f32> = left.iter().map(|v| -v).collect();
    CHAIN.with_borrow_mut(|chain| {
        chain.reset();
        chain.process(
            &mut [&mut left, &mut right],
            &settings,
            &mut Meters::default(),
        );
    });
    assert!(left.iter().chain(&right).all(|v| v.is_finite()));
    if !settings.monitor.bypass {
        let ceiling = settings.clamped().limiter.ceiling_dbtp;
        let limit = 10f32.powf(ceiling / 20.0) * (1.0 + 1e-6);
        let peak = left
            .iter()
            .chain(&right)
            .fold(0.0f32, |m, v| m.max(v.abs()));
        assert!(peak <= limit, "peak {peak} over the {ceiling} dBTP ceiling");
    }
});
