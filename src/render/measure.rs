//! Measuring what was written: integrated loudness, loudness range, true peak and sample
//! peak, per ITU-R BS.1770-4 and EBU Tech 3342, with the ebur128 crate. Offline, so the
//! meter's (allocating) default mode is fine here.

use std::path::Path;

use ebur128::{EbuR128, Mode};

use super::decode::{decode_into, DecodeError, DecodeSink};

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Measurement {
    pub integrated_lufs: f64,
    pub loudness_range_lu: f64,
    pub true_peak_dbtp: f64,
    pub sample_peak_dbfs: f64,
    pub duration_s: f64,
    pub sample_rate: u32,
}

fn to_db(linear: f64) -> f64 {
    if linear > 0.0 {
        20.0 * linear.log10()
    } else {
        f64::NEG_INFINITY
    }
}

/// Measures planar audio. Mono is measured as dual mono, as it plays on two speakers.
pub fn measure(channels: &[Vec<f32>], sample_rate: u32) -> Measurement {
    let mut meter = Meter::new(channels.len(), sample_rate);
    meter.add(channels);
    meter.finish()
}

/// Decodes `path` block by block into a [`Meter`]: the file is measured without being held.
pub fn measure_file(path: &Path) -> Result<Measurement, DecodeError> {
    let mut sink = MeterSink(None);
    decode_into(path, &mut sink)?;
    // decode_into calls `start` before it can succeed.
    Ok(sink
        .0
        .map_or_else(|| Meter::new(2, 0).finish(), Meter::finish))
}

struct MeterSink(Option<Meter>);

impl DecodeSink for MeterSink {
    fn start(&mut self, sample_rate: u32, channels: usize, _declared_frames: Option<u64>) {
        self.0 = Some(Meter::new(channels, sample_rate));
    }

    fn block(&mut self, planes: &[Vec<f32>]) {
        if let Some(m) = &mut self.0 {
            m.add(planes);
        }
    }
}

/// The measurement of [`measure`], fed in blocks; the figures do not depend on how the
/// audio is cut (`a_meter_fed_in_blocks_reads_as_one_fed_whole`).
pub struct Meter {
    /// `None` when ebur128 refused the layout or a block (the figures are then NaN).
    meter: Option<EbuR128>,
    dual_mono: bool,
    frames: u64,
    sample_rate: u32,
}

impl Meter {
    /// Every figure of a [`Measurement`].
    pub fn new(channels: usize, sample_rate: u32) -> Self {
        Self::with_mode(
            channels,
            sample_rate,
            Mode::I | Mode::LRA | Mode::TRUE_PEAK | Mode::SAMPLE_PEAK,
        )
    }

    /// Integrated loudness alone ([`Meter::integrated_lufs`]), without the cost of the
    /// true-peak oversampler: the MP3 stage's limiter passes need no more.
    pub fn loudness_only(channels: usize, sample_rate: u32) -> Self {
        Self::with_mode(channels, sample_rate, Mode::I)
    }

    fn with_mode(channels: usize, sample_rate: u32, mode: Mode) -> Self {
        let dual_mono = channels == 1;
        let meter_channels = if dual_mono { 2 } else { channels as u32 };
        Self {
            meter: EbuR128::new(meter_channels, sample_rate, mode).ok(),
            dual_mono,
            frames: 0,
            sample_rate,
        }
    }

    /// The next frames, one plane per channel. False once the meter has failed (the
    /// figures are then NaN and nothing more is worth adding).
    pub fn add<P: AsRef<[f32]>>(&mut self, planes: &[P]) -> bool {
        let frames = planes.first().map_or(0, |p| p.as_ref().len());
        self.frames += frames as u64;
        let planar: Vec<&[f32]> = match planes {
            [mono] if self.dual_mono => vec![mono.as_ref(), mono.as_ref()],
            _ => planes.iter().map(AsRef::as_ref).collect(),
        };
        if let Some(m) = &mut self.meter {
            if m.add_frames_planar_f32(&planar).is_err() {
                self.meter = None;
            }
        }
        self.meter.is_some()
    }

    /// Integrated loudness so far (BS.1770-4 gating), LUFS; -inf for silence, NaN when the
    /// meter failed.
    pub fn integrated_lufs(&self) -> f64 {
        self.meter.as_ref().map_or(f64::NAN, |m| {
            m.loudness_global().unwrap_or(f64::NEG_INFINITY)
        })
    }

    pub fn finish(self) -> Measurement {
        let duration_s = if self.sample_rate > 0 {
            self.frames as f64 / self.sample_rate as f64
        } else {
            0.0
        };
        let Some(m) = self.meter else {
            return Measurement {
                integrated_lufs: f64::NAN,
                loudness_range_lu: f64::NAN,
                true_peak_dbtp: f64::NAN,
                sample_peak_dbfs: f64::NAN,
                duration_s,
                sample_rate: self.sample_rate,
            };
        };
        let channels = m.channels();
        let peak_over = |f: &dyn Fn(u32) -> f64| (0..channels).map(f).fold(0.0f64, f64::max);
        Measurement {
            integrated_lufs: m.loudness_global().unwrap_or(f64::NEG_INFINITY),
            loudness_range_lu: m.loudness_range().unwrap_or(0.0),
            true_peak_dbtp: to_db(peak_over(&|c| m.true_peak(c).unwrap_or(0.0))),
            sample_peak_dbfs: to_db(peak_over(&|c| m.sample_peak(c).unwrap_or(0.0))),
            duration_s,
            sample_rate: self.sample_rate,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_meter_fed_in_blocks_reads_as_one_fed_whole() {
        // A tone with a burst, long enough for the gates and the loudness range.
        let rate = 48_000;
        let x: Vec<f32> = (0..rate as usize * 12)
            .map(|n| {
                let burst = if (n / 24_000) % 5 == 0 { 0.9 } else { 0.2 };
                (n as f32 * 0.0573).sin() * burst
            })
            .collect();
        let planes = vec![x.clone(), x.iter().map(|v| -v * 0.5).collect::<Vec<_>>()];
        let whole = measure(&planes, rate);
        let mut meter = Meter::new(2, rate);
        let mut at = 0;
        for len in [1usize, 7, 4096, 333, 100_000].iter().cycle() {
            if at >= x.len() {
                break;
            }
            let end = (at + len).min(x.len());
            meter.add(&[planes[0][at..end].to_vec(), planes[1][at..end].to_vec()]);
            at = end;
        }
        let blocks = meter.finish();
        assert!(whole.integrated_lufs.is_finite() && whole.loudness_range_lu > 0.0);
        assert_eq!(whole, blocks);
    }
}
