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
