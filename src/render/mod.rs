//! The offline renderer: decode · master · resample · limit · dither · encode · verify.
//! Library code, so tests drive it directly; `cargo xtask render` is a thin command line
//! over it.

pub mod decode;
pub mod dither;
pub mod error;
pub mod master;
pub mod measure;
pub mod preflight;
pub mod resample;
pub mod wav;

use std::path::{Path, PathBuf};

pub use error::RenderError;
pub use measure::Measurement;

use crate::dsp::ChainSettings;

/// The delivery format of the foundation renderer (the full deliverable set comes with the
/// renderer issue): WAV, 48 kHz, 24-bit.
pub const DELIVERY_RATE: u32 = 48_000;
pub const DELIVERY_BITS: u16 = 24;

/// What to render.
#[derive(Debug, Clone)]
pub struct RenderJob {
    pub mix: PathBuf,
    pub settings: ChainSettings,
    pub out_dir: PathBuf,
    /// Overwrite deliverables that already exist.
    pub force: bool,
}

/// Stages a render reports progress for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Decode,
    Master,
    Resample,
    Write,
    Verify,
}

impl Stage {
    pub fn label(self) -> &'static str {
        match self {
            Stage::Decode => "decoding",
            Stage::Master => "mastering",
            Stage::Resample => "resampling",
            Stage::Write => "writing",
            Stage::Verify => "verifying",
        }
    }
}

/// One written file and what its decoded contents measure.
#[derive(Debug, Clone)]
pub struct Deliverable {
    pub path: PathBuf,
    pub bits: u16,
    pub measurement: Measurement,
}

#[derive(Debug, Clone)]
pub struct RenderReport {
    pub mix: PathBuf,
    pub source: Measurement,
    /// What the mastering checklist found in the mix, every check, passed or not.
    pub preflight: Vec<preflight::Check>,
    pub latency_samples: usize,
    pub deliverables: Vec<Deliverable>,
}

/// Reads a settings file (the ChainSettings TOML format).
pub fn load_settings(path: &Path) -> Result<ChainSettings, RenderError> {
    let text = std::fs::read_to_string(path).map_err(|e| RenderError::io(path, e))?;
    ChainSettings::from_toml(&text).map_err(|source| RenderError::Settings {
        path: path.to_path_buf(),
        source,
    })
}

/// The deliverable's file name: the mix's stem plus the format.
pub fn deliverable_name(mix: &Path, rate: u32, bits: u16) -> String {
    let stem = mix.file_stem().unwrap_or_default().to_string_lossy();
    format!("{stem}_{}k_{bits}bit.wav", rate / 1000)
}

/// Renders `job`: every check that can fail runs before anything is written, and each file is
/// written under a temporary name and renamed when complete.
pub fn render(
    job: &RenderJob,
    progress: &mut dyn FnMut(Stage, f64),
) -> Result<RenderReport, RenderError> {
    let target = job
        .out_dir
        .join(deliverable_name(&job.mix, DELIVERY_RATE, DELIVERY_BITS));
    if same_file(&target, &job.mix) {
        return Err(RenderError::WouldOverwriteInput { path: target });
    }
    if target.exists() && !job.force {
        return Err(RenderError::OutputExists { path: target });
    }

    progress(Stage::Decode, 0.0);
    let audio = decode::decode_file(&job.mix)?;
    progress(Stage::Decode, 1.0);
    let source = measure::measure(&audio.channels, audio.sample_rate);
    let preflight = preflight::check(&audio.channels, audio.sample_rate, &audio.source, &source);

    let settings = job.settings.clamped();
    let mastered = master::master(&audio.channels, audio.sample_rate, &settings, |f| {
        progress(Stage::Master, f)
    });
    let latency_samples = {
        let mut chain = crate::dsp::Chain::new();
        chain.prepare(audio.sample_rate as f32, master::OFFLINE_BLOCK);
        chain.latency_samples()
    };

    progress(Stage::Resample, 0.0);
    let delivered = if audio.sample_rate == DELIVERY_RATE {
        mastered
    } else {
        let resampled = resample::resample(&mastered, audio.sample_rate, DELIVERY_RATE)?;
        master::safety_limit(&resampled, DELIVERY_RATE, &settings.limiter)
    };
    progress(Stage::Resample, 1.0);

    std::fs::create_dir_all(&job.out_dir).map_err(|e| RenderError::io(&job.out_dir, e))?;
    progress(Stage::Write, 0.0);
    wav::write_wav(&target, &delivered, DELIVERY_RATE, DELIVERY_BITS)?;
    progress(Stage::Write, 1.0);

    // Measure the file as it is on disk, not the buffer we meant to write.
    progress(Stage::Verify, 0.0);
    let written = decode::decode_file(&target)?;
    let measurement = measure::measure(&written.channels, written.sample_rate);
    progress(Stage::Verify, 1.0);

    Ok(RenderReport {
        mix: job.mix.clone(),
        source,
        preflight,
        latency_samples,
        deliverables: vec![Deliverable {
            path: target,
            bits: DELIVERY_BITS,
            measurement,
        }],
    })
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}
