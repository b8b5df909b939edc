//! One stem's stage, offline: the bus's tonal EQ, the bus's multiband compressor, then the
//! stem's gain. The same types, prepared the same way, so a stem's EQ sounds like the bus EQ
//! with the same settings.

use super::settings::StemStageSettings;
use crate::dsp::eq::TonalEq;
use crate::dsp::multiband::Multiband;
use crate::render::cancel::Cancel;
use crate::render::master::OFFLINE_BLOCK;
use crate::render::RenderError;

/// Runs `settings` over `channels` (planar, 1 or 2, equal length) in place, aligned with the
/// input: any latency the stages report is flushed with silence and trimmed, as
/// `master::master_pass` does for the bus, so the stems still sum sample for sample.
///
/// Off or neutral, the samples are left exactly as they are (the EQ skips flat sections, the
/// compressor is off, 0 dB is no multiplication), so neutral stems sum to the plain stem sum.
pub fn run_stage(
    channels: &mut [Vec<f32>],
    sample_rate: u32,
    settings: &StemStageSettings,
    cancel: &Cancel,
) -> Result<(), RenderError> {
    if settings.is_neutral() {
        return Ok(());
    }
    let s = settings.clamped();
    let frames = channels.first().map_or(0, Vec::len);
    let mut eq = TonalEq::new(sample_rate as f32, channels.len());
    let mut comp = Multiband::new(sample_rate as f32, channels.len());
    let latency = eq.latency_samples() + comp.latency_samples();
    for c in channels.iter_mut() {
        c.resize(frames + latency, 0.0);
    }
    let gain = 10f32.powf(s.gain_db / 20.0);
    let total = frames + latency;
    let mut start = 0;
    while start < total {
        cancel.check()?;
        let end = (start + OFFLINE_BLOCK).min(total);
        let mut block: Vec<&mut [f32]> = channels.iter_mut().map(|c| &mut c[start..end]).collect();
        eq.process(&mut block, &s.eq);
        comp.process(&mut block, &s.compressor);
        if s.gain_db != 0.0 {
            for c in block.iter_mut() {
                for x in c.iter_mut() {
                    *x *= gain;
                }
            }
        }
        start = end;
    }
    for c in channels.iter_mut() {
        c.drain(..latency);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(len: usize) -> Vec<f32> {
        (0..len).map(|n| (n as f32 * 0.031).sin() * 0.25).collect()
    }

    #[test]
    fn neutral_and_off_stages_return_the_input_bit_for_bit() {
        let x = tone(20_000);
        let mut a = vec![x.clone(), x.clone()];
        run_stage(
            &mut a,
            44_100,
            &StemStageSettings::default(),
            &Cancel::new(),
        )
        .unwrap();
        assert_eq!(a, vec![x.clone(), x.clone()]);
        let mut off = StemStageSettings {
            enabled: false,
            gain_db: 6.0,
            ..Default::default()
        };
        off.compressor.enabled = true;
        let mut b = vec![x.clone()];
        run_stage(&mut b, 44_100, &off, &Cancel::new()).unwrap();
        assert_eq!(b, vec![x]);
    }

    #[test]
    fn gain_is_applied_in_db_and_the_length_is_kept() {
        let x = tone(10_000);
        let mut a = vec![x.clone()];
        let s = StemStageSettings {
            gain_db: -6.0,
            ..Default::default()
        };
        run_stage(&mut a, 48_000, &s, &Cancel::new()).unwrap();
        assert_eq!(a[0].len(), x.len());
        let g = 10f32.powf(-6.0 / 20.0);
        for (y, x) in a[0].iter().zip(&x) {
            assert!((y - x * g).abs() <= 1e-7);
        }
    }
}
