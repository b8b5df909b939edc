//! A streaming true-peak meter over [`TruePeakDetector`].

use super::TruePeakDetector;

/// A streaming true-peak meter: the largest true peak since reset, per BS.1770-4 Annex 2
/// ([`TruePeakDetector::for_meter`]: 4x at every rate, where the ebur128 crate drops to 2x or
/// none at 96 kHz and above). Allocation-free after `new`.
#[derive(Debug, Clone)]
pub struct TruePeakMeter {
    detector: TruePeakDetector,
    /// Per channel, the input: `history()` samples of the past, then room for new ones.
    buffers: Vec<Vec<f32>>,
    peaks: Vec<f32>,
    peak: f32,
}

/// New samples the meter takes per pass; longer blocks are measured in pieces.
const METER_CHUNK: usize = 512;

impl TruePeakMeter {
    pub fn new(sample_rate: f32, channels: usize) -> Self {
        let history = TruePeakDetector::history();
        Self {
            detector: TruePeakDetector::for_meter(sample_rate),
            buffers: vec![vec![0.0; history + METER_CHUNK]; channels.max(1)],
            peaks: vec![0.0; METER_CHUNK],
            peak: 0.0,
        }
    }

    pub fn reset(&mut self) {
        for b in &mut self.buffers {
            b.fill(0.0);
        }
        self.peak = 0.0;
    }

    /// Largest true peak since reset, linear (0 for silence). Lags the input by
    /// `TruePeakDetector::delay()` samples.
    pub fn peak(&self) -> f32 {
        self.peak
    }

    /// Measures a block; one slice per channel. Channels the block does not have read as
    /// silence.
    pub fn add(&mut self, channels: &[&mut [f32]]) {
        let history = TruePeakDetector::history();
        let frames = channels.first().map_or(0, |c| c.len());
        let mut start = 0;
        while start < frames {
            let n = (frames - start).min(METER_CHUNK);
            let peaks = &mut self.peaks[..n];
            peaks.fill(0.0);
            for (c, buf) in self.buffers.iter_mut().enumerate() {
                let new = &mut buf[history..history + n];
                match channels.get(c) {
                    Some(ch) => new.copy_from_slice(&ch[start..start + n]),
                    None => new.fill(0.0),
                }
                // Only readings above the running maximum can change it.
                self.detector.measure(&buf[..history + n], peaks, self.peak);
                buf.copy_within(n..n + history, 0);
            }
            self.peak = peaks.iter().fold(self.peak, |m, &p| m.max(p));
            start += n;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::true_peak::tests::noise;

    #[test]
    fn the_meter_keeps_the_largest_peak_over_any_block_split() {
        let rate = 48_000.0;
        let x = noise(20_000, 3);
        let mut whole = TruePeakMeter::new(rate, 1);
        let mut buf = x.clone();
        whole.add(&[&mut buf[..]]);
        let mut split = TruePeakMeter::new(rate, 1);
        for c in x.chunks(37) {
            let mut c = c.to_vec();
            split.add(&[&mut c[..]]);
        }
        assert_eq!(whole.peak(), split.peak());
        let d = TruePeakDetector::for_meter(rate);
        let mut padded = vec![0.0; TruePeakDetector::history()];
        padded.extend_from_slice(&x);
        let mut peaks = vec![0.0; x.len()];
        d.measure(&padded, &mut peaks, 0.0);
        assert_eq!(whole.peak(), peaks.iter().fold(0.0f32, |a, &b| a.max(b)));
    }
}
