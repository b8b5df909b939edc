//! The DSP core: pure Rust over sample slices and plain settings. It knows nothing of
//! nice-plug, egui, files or threads, so the plugin and the renderer run the very same code.

pub mod bypass;
pub mod chain;
pub mod clipper;
pub mod eq;
pub mod learn;
pub mod limiter;
pub mod limiter_stage;
pub mod loudness;
pub mod meters;
pub mod multiband;
pub mod platforms;
pub mod sanitize;
pub mod settings;
pub mod smoothed_gain;
pub mod stereo;
pub mod true_peak;
pub mod units;
pub mod windowed_sinc;

pub use chain::Chain;
pub use meters::Meters;
pub use settings::ChainSettings;
