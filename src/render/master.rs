//! Runs the chain over a whole file, offline, exactly as the plugin runs it in a host.

use super::cancel::Cancel;
use super::error::RenderError;
use crate::dsp::limiter::TruePeakLimiter;
use crate::dsp::settings::LimiterSettings;
use crate::dsp::{Chain, ChainSettings, Meters};

/// Block length for offline processing. Any length gives the same samples (the chain is
/// block-size invariant); this one keeps the working set in cache.
pub const OFFLINE_BLOCK: usize = 4096;

/// One offline pass of the chain, aligned with its input, and how hard the limiter worked.
#[derive(Debug, Clone)]
pub struct Mastered {
    pub channels: Vec<Vec<f32>>,
    /// The limiter's deepest gain reduction over the whole pass, dB (0 or negative).
    pub peak_limiting_db: f32,
}

/// Masters `channels` (planar, 1 or 2, equal length) at `sample_rate` and returns the result
/// aligned with the input: the chain's latency is flushed with silence and trimmed, so
/// sample `i` of the output is sample `i` of the input, processed.
///
/// `progress` is called with the fraction done after each block.
pub fn master(
    channels: &[Vec<f32>],
    sample_rate: u32,
    settings: &ChainSettings,
    progress: impl FnMut(f64),
) -> Vec<Vec<f32>> {
    // Nobody else holds this flag, so the pass runs to the end.
    master_pass(channels, sample_rate, settings, &Cancel::new(), progress)
        .map(|m| m.channels)
        .unwrap_or_default()
}

/// [`master`], stoppable between blocks through `cancel`, and reporting the limiter's work.
pub fn master_pass(
    channels: &[Vec<f32>],
    sample_rate: u32,
    settings: &ChainSettings,
    cancel: &Cancel,
    mut progress: impl FnMut(f64),
) -> Result<Mastered, RenderError> {
    let frames = channels.first().map_or(0, Vec::len);
    // The learned gain is rendered as it is: a file carries what Learn found, and a master
    // whose drive moved while it learned would match no settings.
    let mut settings = *settings;
    settings.target.learn = false;
    let settings = &settings;
    let mut chain = Chain::new();
    // The renderer measures what it writes with its own meters; the chain need not.
    chain.set_metering(false);
    chain.prepare(sample_rate as f32, OFFLINE_BLOCK);
    let latency = chain.latency_samples();

    let total = frames + latency;
    let mut out: Vec<Vec<f32>> = channels
        .iter()
        .map(|c| {
            let mut v = Vec::with_capacity(total);
            v.extend_from_slice(c);
            v.resize(total, 0.0);
            v
        })
        .collect();
    let mut meters = Meters::default();
    let mut peak_limiting_db = 0.0f32;
    let mut start = 0;
    while start < total {
        cancel.check()?;
        let end = (start + OFFLINE_BLOCK).min(total);
        let mut block: Vec<&mut [f32]> = out.iter_mut().map(|c| &mut c[start..end]).collect();
        chain.process(&mut block, settings, &mut meters);
        peak_limiting_db = peak_limiting_db.min(meters.limiter_gain_db);
        start = end;
        progress(start as f64 / total.max(1) as f64);
    }
    for c in &mut out {
        c.drain(..latency);
    }
    Ok(Mastered {
        channels: out,
        peak_limiting_db,
    })
}

/// The chain's own true-peak limiter, alone, at a delivery rate: resampling rebuilds the
/// waveform between samples, so a master that held its ceiling at 44.1 kHz can overshoot it
/// by a few hundredths of a dB at 48 kHz. Aligned like [`master`]; a no-op where nothing is
/// over the ceiling.
pub fn safety_limit(
    channels: &[Vec<f32>],
    sample_rate: u32,
    limiter: &LimiterSettings,
) -> Vec<Vec<f32>> {
    safety_limit_in_place(channels.to_vec(), sample_rate, limiter)
}

/// [`safety_limit`] on audio the caller gives up, limited where it lies: no second copy of
/// a whole master at a delivery rate.
pub fn safety_limit_in_place(
    mut channels: Vec<Vec<f32>>,
    sample_rate: u32,
    limiter: &LimiterSettings,
) -> Vec<Vec<f32>> {
    let frames = channels.first().map_or(0, Vec::len);
    let mut stage = TruePeakLimiter::new(sample_rate as f32, channels.len());
    stage.configure(limiter);
    let latency = stage.latency_samples();
    for c in &mut channels {
        c.resize(frames + latency, 0.0);
    }
    let mut block: Vec<&mut [f32]> = channels.iter_mut().map(|c| &mut c[..]).collect();
    stage.process(&mut block, limiter);
    for c in &mut channels {
        c.drain(..latency);
        c.shrink_to_fit();
    }
    channels
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_is_aligned_with_input_and_the_same_length() {
        let x: Vec<f32> = (0..10_000).map(|n| (n as f32 * 0.05).sin() * 0.1).collect();
        let out = master(
            &[x.clone(), x.clone()],
            48_000,
            &ChainSettings::default(),
            |_| {},
        );
        assert_eq!(out[0].len(), x.len());
        // Quiet enough that nothing is limited: the chain is a pure delay, trimmed away.
        assert_eq!(out[0], x);
        assert_eq!(out[1], x);
    }
}
