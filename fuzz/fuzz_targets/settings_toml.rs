//! Settings files (`--settings`, the ChainSettings TOML): whatever the text, `from_toml`
//! returns settings inside every range or an error; accepted settings survive a round trip
//! through `to_toml` unchanged and are their own clamped copy.
#![no_main]

use lathe::dsp::ChainSettings;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(settings) = ChainSettings::from_toml(text) else {
        return;
    };
    assert!(settings.validate().is_ok());
    for (name, value, range) in settings.controls() {
        assert!(range.contains(value), "{name} = {value}");
    }
    let back = ChainSettings::from_toml(&settings.to_toml()).expect("re-reads its own output");
    assert_eq!(back, settings);
    // Clamping moves nothing that validated, except the multiband crossovers, which it also
    // sorts and spaces an octave apart: a clamped copy is stable from then on.
    let clamped = settings.clamped();
    assert_eq!(clamped.clamped(), clamped);
    assert!(clamped.validate().is_ok());
});
