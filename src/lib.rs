//! Lathe: a mastering chain (tonal EQ, multiband compression, a look-ahead true-peak limiter
//! with LUFS targeting) that runs as a CLAP/VST3 plugin and as an offline renderer, with one
//! DSP core in [`dsp`].

pub mod dsp;

#[cfg(feature = "plugin")]
pub mod editor;
#[cfg(feature = "plugin")]
pub mod params;
#[cfg(feature = "plugin")]
pub mod plugin;

#[cfg(feature = "render")]
pub mod render;

/// The plugin built without the renderer still loads and measures reference files (the
/// editor's reference loader): the renderer's own decoder, spectrum analysis and match-curve
/// fit, compiled from the same files under the same paths, so there is one implementation.
#[cfg(all(feature = "plugin", not(feature = "render")))]
pub mod render {
    #[path = "analysis.rs"]
    pub mod analysis;
    #[path = "decode.rs"]
    pub mod decode;
    pub mod reference {
        #[path = "smoothing.rs"]
        pub mod smoothing;
        #[path = "spectrum.rs"]
        pub mod spectrum;
        pub use spectrum::*;
    }
}
