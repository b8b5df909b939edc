//! Runs the chain over a whole file, offline, exactly as the plugin runs it in a host.

use ebur128::{EbuR128, Mode};

use super::cancel::Cancel;
use super::error::RenderError;
use super::fade::Fades;
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
    /// The deepest reduction of a peak over the whole pass, dB (0 or negative): the
    /// limiter's gain reduction and the transient clipper's cut, added per block (the
    /// loudest peaks are the ones both work on; where they are not, this is an upper bound).
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
    progress: impl FnMut(f64),
) -> Result<Mastered, RenderError> {
    let frames = channels.first().map_or(0, Vec::len);
    let mut out: Vec<Vec<f32>> = channels
        .iter()
        .map(|_| Vec::with_capacity(frames))
        .collect();
    let peak_limiting_db = run_chain(
        channels,
        sample_rate,
        settings,
        cancel,
        progress,
        |_, block| {
            for (o, b) in out.iter_mut().zip(block.iter()) {
                o.extend_from_slice(b);
            }
        },
    )?;
    Ok(Mastered {
        channels: out,
        peak_limiting_db,
    })
}

/// What a pass that keeps no audio found.
#[derive(Debug, Clone, Copy)]
pub struct PassMeasurement {
    /// Integrated loudness of the master, fades applied (ITU-R BS.1770-4, gated).
    pub integrated_lufs: f64,
    /// As [`Mastered::peak_limiting_db`].
    pub peak_limiting_db: f32,
}

/// A pass of the chain that keeps only its measurements: the loudness the master would have,
/// with `fades` applied, measured block by block as it comes out. It holds one block of
/// audio, where [`master_pass`] holds a whole master, so the loudness solve can try gains
/// without a copy of the song per try. Mono is measured as dual mono, as it plays.
pub fn measure_pass(
    channels: &[Vec<f32>],
    sample_rate: u32,
    settings: &ChainSettings,
    fades: &Fades,
    cancel: &Cancel,
    progress: impl FnMut(f64),
) -> Result<PassMeasurement, RenderError> {
    let frames = channels.first().map_or(0, Vec::len);
    let meter_channels = channels.len().max(2) as u32;
    let mut meter = EbuR128::new(meter_channels, sample_rate, Mode::I).map_err(|e| {
        RenderError::Unsupported {
            what: format!("loudness meter at {sample_rate} Hz: {e}"),
        }
    })?;
    let mut fed: Result<(), ebur128::Error> = Ok(());
    let peak_limiting_db = run_chain(
        channels,
        sample_rate,
        settings,
        cancel,
        progress,
        |start, block| {
            fades.apply_block(block, start, frames, sample_rate);
            if fed.is_err() {
                return;
            }
            fed = match block {
                [mono] => meter.add_frames_planar_f32(&[&mono[..], &mono[..]]),
                _ => {
                    let planar: Vec<&[f32]> = block.iter().map(|c| &c[..]).collect();
                    meter.add_frames_planar_f32(&planar)
                }
            };
        },
    )?;
    let integrated_lufs = fed
        .and_then(|()| meter.loudness_global())
        .unwrap_or(f64::NEG_INFINITY);
    Ok(PassMeasurement {
        integrated_lufs,
        peak_limiting_db,
    })
}

/// Runs the chain over `channels` block by block, flushing its latency with silence, and
/// hands `sink` each block of output aligned with the input: the frame it starts at, and the
/// samples. Returns the limiter's deepest gain reduction, dB.
fn run_chain(
    channels: &[Vec<f32>],
    sample_rate: u32,
    settings: &ChainSettings,
    cancel: &Cancel,
    mut progress: impl FnMut(f64),
    mut sink: impl FnMut(usize, &mut [&mut [f32]]),
) -> Result<f32, RenderError> {
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
    let mut scratch: Vec<Vec<f32>> = vec![vec![0.0; OFFLINE_BLOCK]; channels.len()];
    let mut meters = Meters::default();
    let mut peak_limiting_db = 0.0f32;
    let mut start = 0;
    while start < total {
        cancel.check()?;
        let end = (start + OFFLINE_BLOCK).min(total);
        let len = end - start;
        // The song, then silence to flush the look-ahead.
        let from_input = frames.min(end).saturating_sub(start);
        for (s, c) in scratch.iter_mut().zip(channels) {
            if from_input > 0 {
                s[..from_input].copy_from_slice(&c[start..start + from_input]);
            }
            s[from_input..len].fill(0.0);
        }
        let mut block: Vec<&mut [f32]> = scratch.iter_mut().map(|s| &mut s[..len]).collect();
        chain.process(&mut block, settings, &mut meters);
        peak_limiting_db = peak_limiting_db.min(meters.limiter_gain_db + meters.clipper_gain_db);
        // The first `latency` frames out are the look-ahead's silence, not the song.
        let skip = latency.saturating_sub(start).min(len);
        if skip < len {
            let mut aligned: Vec<&mut [f32]> = block.iter_mut().map(|b| &mut b[skip..]).collect();
            sink(start + skip - latency, &mut aligned);
        }
        start = end;
        progress(start as f64 / total.max(1) as f64);
    }
    Ok(peak_limiting_db)
}

/// The chain's own true-peak limiter, alone, at a delivery rate: resampling rebuilds the
/// waveform between samples, so a master that held its ceiling at 44.1 kHz can overshoot it
/// by a few hundredths of a dB at 48 kHz. Aligned like [`master`]; a no-op where nothing is
/// over the ceiling.
///
/// It takes the audio the caller gives up and limits it where it lies: no second copy of a
/// whole master at a delivery rate.
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

/// [`safety_limit_in_place`] of `channels` × `gain`, in blocks, holding none of its output: each
/// block of limited audio, aligned and trimmed as [`safety_limit_in_place`] aligns and
/// trims it, goes to `out`, which returns false to stop early. The MP3's codec stage
/// measures and encodes through this, so it never holds a limited copy of the master.
pub fn safety_limit_blocks(
    channels: &[Vec<f32>],
    sample_rate: u32,
    limiter: &LimiterSettings,
    gain: f32,
    out: &mut dyn FnMut(&[&[f32]]) -> bool,
) {
    let frames = channels.iter().map(Vec::len).min().unwrap_or(0);
    let mut stage = TruePeakLimiter::new(sample_rate as f32, channels.len());
    stage.configure(limiter);
    let latency = stage.latency_samples();
    let mut buffer = vec![vec![0.0f32; OFFLINE_BLOCK]; channels.len()];
    let total = frames + latency;
    let mut to_skip = latency;
    let mut at = 0;
    while at < total {
        let n = OFFLINE_BLOCK.min(total - at);
        for (b, c) in buffer.iter_mut().zip(channels) {
            let real = frames.saturating_sub(at).min(n);
            let input = if real > 0 { &c[at..at + real] } else { &[][..] };
            for (d, x) in b[..real].iter_mut().zip(input) {
                *d = x * gain;
            }
            // The limiter's look-ahead is flushed with silence, as the in-place form pads.
            b[real..n].fill(0.0);
        }
        let mut block: Vec<&mut [f32]> = buffer.iter_mut().map(|b| &mut b[..n]).collect();
        stage.process(&mut block, limiter);
        let skipped = to_skip.min(n);
        to_skip -= skipped;
        if skipped < n {
            let planes: Vec<&[f32]> = buffer.iter().map(|b| &b[skipped..n]).collect();
            if !out(&planes) {
                return;
            }
        }
        at += n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limiter_in_blocks_equals_the_limiter_in_place() {
        // Hot enough to be limited hard, with a tail shorter than a block.
        let x: Vec<f32> = (0..3 * OFFLINE_BLOCK + 123)
            .map(|n| (n as f32 * 0.021).sin() * (1.0 + (n % 900) as f32 / 300.0))
            .collect();
        let stereo = vec![x.clone(), x.iter().map(|v| v * -0.7).collect::<Vec<_>>()];
        let limiter = LimiterSettings::default();
        let gain = 1.5f32;
        let driven: Vec<Vec<f32>> = stereo
            .iter()
            .map(|c| c.iter().map(|v| v * gain).collect())
            .collect();
        let in_place = safety_limit_in_place(driven, 44_100, &limiter);
        let mut blocks = vec![Vec::new(), Vec::new()];
        safety_limit_blocks(&stereo, 44_100, &limiter, gain, &mut |planes| {
            for (all, p) in blocks.iter_mut().zip(planes) {
                all.extend_from_slice(p);
            }
            true
        });
        assert_eq!(blocks[0].len(), x.len());
        assert!(in_place[0].iter().any(|v| (v - x[0]).abs() > 0.0));
        assert_eq!(blocks, in_place);
    }

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

    /// The solve's measuring passes and its kept master must agree, or it would pick a gain
    /// by one loudness and deliver another: the same loudness to the last bit, fades, mono
    /// and a song shorter than one block included.
    #[test]
    fn a_measuring_pass_reads_what_the_kept_master_reads() {
        use crate::render::solve::integrated_lufs;
        let rate = 44_100;
        let song = |frames: usize, seed: f32| -> Vec<f32> {
            (0..frames)
                .map(|n| {
                    let t = n as f32 / rate as f32;
                    0.7 * (t * 97.0 * seed).sin() * (t * 3.0).sin().abs()
                        + 0.2 * (t * 2_900.0).sin()
                })
                .collect()
        };
        let mut settings = ChainSettings::default();
        settings.limiter.drive_db = 9.0;
        let fades = Fades {
            fade_in_ms: 250.0,
            fade_out_s: 1.5,
        };
        for (frames, channels) in [
            (5 * rate as usize + 17, 2),
            (3 * rate as usize, 1),
            (1000, 2),
        ] {
            let input: Vec<Vec<f32>> = (0..channels)
                .map(|c| song(frames, 1.0 + c as f32))
                .collect();
            let mut kept = master_pass(&input, rate, &settings, &Cancel::new(), |_| {}).unwrap();
            fades.apply(&mut kept.channels, rate);
            let measured =
                measure_pass(&input, rate, &settings, &fades, &Cancel::new(), |_| {}).unwrap();
            let whole = integrated_lufs(&kept.channels, rate);
            assert_eq!(
                measured.integrated_lufs.to_bits(),
                whole.to_bits(),
                "{frames} frames, {channels} channels: {} vs {whole}",
                measured.integrated_lufs
            );
            assert_eq!(measured.peak_limiting_db, kept.peak_limiting_db);
            if frames > rate as usize {
                assert!(kept.peak_limiting_db < -1.0, "the test must limit");
            }
        }
    }
}
