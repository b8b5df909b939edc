//! Loudness metering on the audio thread (ITU-R BS.1770-4, EBU R128), through the ebur128
//! crate.
//!
//! ebur128 keeps its gating history in a queue that grows (and allocates) unless it is put
//! in histogram mode, so the meter is built with `Mode::HISTOGRAM` in `prepare` and only fed
//! in `process`. Mono is measured as dual mono, the way a mono master plays on two speakers.

use ebur128::{EbuR128, Mode};

/// The loudness figures a mastering engineer reads, per ITU-R BS.1770-4 and EBU Tech
/// 3341/3342. `-inf` until there is enough audio to say (400 ms momentary, 3 s short-term).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoudnessReading {
    pub momentary_lufs: f32,
    pub short_term_lufs: f32,
    /// The largest momentary and short-term readings since reset (EBU Tech 3341 §2.1).
    pub max_momentary_lufs: f32,
    pub max_short_term_lufs: f32,
    pub integrated_lufs: f32,
    /// Loudness range (EBU Tech 3342), LU.
    pub range_lu: f32,
    /// Largest true peak since reset (BS.1770-4 Annex 2), dBTP.
    pub true_peak_dbtp: f32,
    /// Peak-to-loudness ratio: true peak max minus integrated loudness, dB.
    pub plr_db: f32,
}

impl Default for LoudnessReading {
    fn default() -> Self {
        Self {
            momentary_lufs: f32::NEG_INFINITY,
            short_term_lufs: f32::NEG_INFINITY,
            max_momentary_lufs: f32::NEG_INFINITY,
            max_short_term_lufs: f32::NEG_INFINITY,
            integrated_lufs: f32::NEG_INFINITY,
            range_lu: 0.0,
            true_peak_dbtp: f32::NEG_INFINITY,
            plr_db: f32::NEG_INFINITY,
        }
    }
}

pub struct LoudnessMeter {
    meter: EbuR128,
    /// Frames since the momentary reading was last taken, how many make 10 ms, and how many
    /// 10 ms steps since the other readings (every 100 ms).
    since_reading: usize,
    reading_interval: usize,
    steps: u32,
    reading: LoudnessReading,
}

impl std::fmt::Debug for LoudnessMeter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoudnessMeter").finish_non_exhaustive()
    }
}

impl LoudnessMeter {
    /// `None` only for a sample rate ebur128 refuses (it takes 16 Hz to 2.8 MHz).
    pub fn new(sample_rate: f32) -> Option<Self> {
        let mode = Mode::M | Mode::S | Mode::I | Mode::LRA | Mode::TRUE_PEAK | Mode::HISTOGRAM;
        EbuR128::new(2, sample_rate as u32, mode)
            .ok()
            .map(|meter| Self {
                meter,
                since_reading: 0,
                reading_interval: (sample_rate / 100.0) as usize,
                steps: 0,
                reading: LoudnessReading::default(),
            })
    }

    pub fn reset(&mut self) {
        self.meter.reset();
        self.since_reading = 0;
        self.steps = 0;
        self.reading = LoudnessReading::default();
    }

    pub fn add(&mut self, channels: &[&mut [f32]]) {
        let result = match channels {
            [mono] => self.meter.add_frames_planar_f32(&[mono, mono]),
            [left, right, ..] => self.meter.add_frames_planar_f32(&[left, right]),
            [] => Ok(()),
        };
        // ebur128 only fails on mismatched channel slices, which the match above rules out.
        debug_assert!(result.is_ok());
        // A reading sums its whole window (400 ms momentary, 3 s short-term), so taking one per
        // 64-sample block would cost more than the chain. The momentary reading is taken every
        // 10 ms, often enough that its maximum is within 0.05 LU of the true one (at 100 ms a
        // 400 ms tone burst can read 0.45 LU low: EBU Tech 3341 cases 13/14); the rest every
        // 100 ms, the step of the gating blocks.
        self.since_reading += channels.first().map_or(0, |c| c.len());
        if self.since_reading >= self.reading_interval {
            self.since_reading = 0;
            self.steps += 1;
            if self.steps >= 10 {
                self.steps = 0;
                self.take_reading();
            } else {
                let m = self.meter.loudness_momentary().unwrap_or(f64::NEG_INFINITY) as f32;
                self.reading.momentary_lufs = m;
                self.reading.max_momentary_lufs = self.reading.max_momentary_lufs.max(m);
            }
        }
    }

    /// Reads every figure now (the renderer calls this at the end of a file).
    pub fn take_reading(&mut self) {
        let lufs = |r: Result<f64, ebur128::Error>| r.unwrap_or(f64::NEG_INFINITY) as f32;
        let m = &self.meter;
        let peak = (0..2)
            .map(|c| m.true_peak(c).unwrap_or(0.0))
            .fold(0.0f64, f64::max);
        let true_peak_dbtp = if peak > 0.0 {
            (20.0 * peak.log10()) as f32
        } else {
            f32::NEG_INFINITY
        };
        let integrated_lufs = lufs(m.loudness_global());
        let momentary_lufs = lufs(m.loudness_momentary());
        let short_term_lufs = lufs(m.loudness_shortterm());
        self.reading = LoudnessReading {
            momentary_lufs,
            short_term_lufs,
            max_momentary_lufs: self.reading.max_momentary_lufs.max(momentary_lufs),
            max_short_term_lufs: self.reading.max_short_term_lufs.max(short_term_lufs),
            integrated_lufs,
            range_lu: m.loudness_range().unwrap_or(0.0) as f32,
            true_peak_dbtp,
            plr_db: true_peak_dbtp - integrated_lufs,
        };
    }

    pub fn reading(&self) -> LoudnessReading {
        self.reading
    }
}
