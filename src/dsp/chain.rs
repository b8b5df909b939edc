//! The mastering chain: one ordered list of stages, the same in the plugin and the renderer.
//!
//! input trim → tonal EQ (and the reference-match curve) → multiband compressor → stereo stage → drive (+ learned gain) →
//! transient clipper → true-peak limiter → output gain (DESIGN.md, "Signal path").

use super::bypass::MatchedBypass;
use super::eq::match_curve::MatchEq;
use super::eq::TonalEq;
use super::learn::{Aim, Learner};
use super::limiter_stage::LimiterStage;
use super::loudness::LoudnessMeter;
use super::meters::{peak_db, Meters};
use super::multiband::Multiband;
use super::platforms::all_platform_gains_db;
use super::sanitize::{flush_slice, sanitize};
use super::settings::ChainSettings;
use super::smoothed_gain::SmoothedGain;
use super::stereo::{correlation, StereoStage};
use super::true_peak::max_abs;
use super::units::{db_to_gain, gain_to_db};

/// Lathe handles mono and stereo; further channels pass through untouched.
pub const MAX_CHANNELS: usize = 2;

/// The chain runs a long block in chunks of at most this many frames, so buffers that hold a
/// block (the bypass's dry signal) have a fixed size. Every stage works sample by sample, so
/// the chunking does not change a single output sample.
pub const CHUNK_FRAMES: usize = 1024;

#[derive(Debug)]
pub struct Chain {
    sample_rate: f32,
    max_block: usize,
    trim: SmoothedGain,
    eq: TonalEq,
    match_eq: MatchEq,
    multiband: Multiband,
    stereo: StereoStage,
    drive: SmoothedGain,
    /// The style's transient clipper and the true-peak limiter.
    limiter: LimiterStage,
    /// Sets the drive while Learn is on (see `learn.rs`).
    learner: Learner,
    output: SmoothedGain,
    bypass: MatchedBypass,
    input_loudness: Option<LoudnessMeter>,
    output_loudness: Option<LoudnessMeter>,
    /// Per frame of a chunk, the output's true peak as the limiter's detector read it.
    output_true_peak: Vec<f32>,
    metering: bool,
}

impl Default for Chain {
    fn default() -> Self {
        Self::new()
    }
}

impl Chain {
    /// A chain prepared for 48 kHz; call [`Chain::prepare`] with the real rate.
    pub fn new() -> Self {
        let mut chain = Self {
            sample_rate: 48_000.0,
            max_block: 0,
            trim: SmoothedGain::default(),
            eq: TonalEq::new(48_000.0, MAX_CHANNELS),
            match_eq: MatchEq::new(48_000.0, MAX_CHANNELS),
            multiband: Multiband::new(48_000.0, MAX_CHANNELS),
            stereo: StereoStage::default(),
            drive: SmoothedGain::default(),
            limiter: LimiterStage::new(48_000.0, MAX_CHANNELS),
            learner: Learner::new(48_000.0, MAX_CHANNELS, 0),
            output: SmoothedGain::default(),
            bypass: MatchedBypass::new(48_000.0, MAX_CHANNELS, 0, CHUNK_FRAMES),
            input_loudness: None,
            output_loudness: None,
            output_true_peak: vec![0.0; CHUNK_FRAMES],
            metering: true,
        };
        chain.prepare(48_000.0, 512);
        chain
    }

    /// Allocates everything `process` will need at `sample_rate`. `max_block` is a hint: the
    /// chain works sample by sample and takes blocks of any length.
    pub fn prepare(&mut self, sample_rate: f32, max_block: usize) {
        self.sample_rate = sample_rate;
        self.max_block = max_block;
        self.trim.prepare(sample_rate);
        self.eq = TonalEq::new(sample_rate, MAX_CHANNELS);
        self.match_eq = MatchEq::new(sample_rate, MAX_CHANNELS);
        self.multiband = Multiband::new(sample_rate, MAX_CHANNELS);
        self.stereo.prepare(sample_rate);
        self.drive.prepare(sample_rate);
        self.limiter = LimiterStage::new(sample_rate, MAX_CHANNELS);
        self.learner = Learner::new(sample_rate, MAX_CHANNELS, self.limiter.latency_samples());
        self.output.prepare(sample_rate);
        self.bypass = MatchedBypass::new(
            sample_rate,
            MAX_CHANNELS,
            self.latency_samples(),
            CHUNK_FRAMES,
        );
        // The output's true peak comes from the limiter's detector (see `process_chunk`).
        (self.input_loudness, self.output_loudness) = if self.metering {
            (
                LoudnessMeter::new(sample_rate),
                LoudnessMeter::without_true_peak(sample_rate),
            )
        } else {
            (None, None)
        };
        self.reset();
    }

    /// Loudness metering adds about a fifth to the chain's cost; offline passes that measure
    /// the result themselves turn it off. Takes effect at the next `prepare`.
    pub fn set_metering(&mut self, enabled: bool) {
        self.metering = enabled;
    }

    /// Clears every filter, envelope and delay; real-time safe.
    pub fn reset(&mut self) {
        self.trim.reset();
        self.eq.reset();
        self.match_eq.reset();
        self.multiband.reset();
        self.stereo.reset();
        self.drive.reset();
        self.limiter.reset();
        // Learning restarts with the next block, from the settings' learned gain.
        self.learner.stop();
        self.output.reset();
        self.bypass.reset();
        for meter in [&mut self.input_loudness, &mut self.output_loudness]
            .into_iter()
            .flatten()
        {
            meter.reset();
        }
    }

    pub fn sample_rate(&self) -> f32 {
        self.sample_rate
    }

    /// The delay, in samples, between input and output at the current settings. It changes
    /// only with the limiter's look-ahead; call [`Chain::update_latency`] to apply new
    /// settings before asking.
    pub fn latency_samples(&self) -> usize {
        self.eq.latency_samples()
            + self.match_eq.latency_samples()
            + self.multiband.latency_samples()
            + self.limiter.latency_samples()
    }

    /// Applies the latency-relevant settings without processing audio, so a host can be told
    /// the new latency before the next block.
    pub fn update_latency(&mut self, settings: &ChainSettings) -> usize {
        self.limiter.configure(&settings.clamped().limiter);
        self.latency_samples()
    }

    /// The Learn mode's state and measurements.
    pub fn learner(&self) -> &Learner {
        &self.learner
    }

    /// The limiter's oversampling factor at this rate.
    pub fn oversampling(&self) -> usize {
        self.limiter.oversampling()
    }

    /// Processes one block in place. `channels` holds one slice per channel, all the same
    /// length (any length, including 0). Allocates nothing; never panics on sample values.
    pub fn process(
        &mut self,
        channels: &mut [&mut [f32]],
        settings: &ChainSettings,
        meters: &mut Meters,
    ) {
        let s = settings.clamped();
        let n = channels.len().min(MAX_CHANNELS);
        let channels = &mut channels[..n];
        match (s.target.learn, self.learner.is_active()) {
            (true, false) => self.learner.start(s.target.learned_gain_db),
            (false, true) => self.learner.stop(),
            _ => {}
        }

        let mut non_finite = 0;
        for ch in channels.iter_mut() {
            non_finite += sanitize(ch);
        }
        meters.non_finite_samples = non_finite as u32;
        meters.input_peak_db = peak_db(channels);
        if let Some(loudness) = &mut self.input_loudness {
            loudness.add(channels);
            meters.input_loudness = loudness.reading();
        }

        // Gain-matched A/B: the output's loudness minus the input's, while both are known.
        let match_db =
            meters.output_loudness.integrated_lufs - meters.input_loudness.integrated_lufs;
        let frames = channels.first().map_or(0, |c| c.len());
        let mut min_gain = 1.0f32;
        let mut output_peak = f32::NEG_INFINITY;
        let mut band_gain_db = [0.0f32; 4];
        let mut start = 0;
        while start < frames {
            let end = (start + CHUNK_FRAMES).min(frames);
            let mut chunk = [&mut [][..], &mut [][..]];
            for (dst, ch) in chunk.iter_mut().zip(channels.iter_mut()) {
                *dst = &mut ch[start..end];
            }
            let chunk = &mut chunk[..n];
            self.bypass.push_dry(chunk);
            min_gain = min_gain.min(self.process_chunk(chunk, &s));
            for (deepest, gr) in band_gain_db
                .iter_mut()
                .zip(self.multiband.gain_reduction_db())
            {
                *deepest = deepest.min(gr);
            }
            // The output meters read the master, not what the A/B switch plays: measuring the
            // bypassed signal would pull the match toward 0 dB while bypassed.
            output_peak = output_peak.max(peak_db(chunk));
            if let Some(loudness) = &mut self.output_loudness {
                loudness.add(chunk);
            }
            // The host's bypass plays the input itself: no loudness match.
            if s.monitor.host_bypass {
                self.bypass.mix(chunk, true, 0.0);
            } else {
                self.bypass.mix(chunk, s.monitor.bypass, match_db);
            }
            // Filters and gains can take a tiny input below the subnormal line on the way out
            // (an f64 EQ state cast to f32, a -24 dB gain on a 1e-37 sample). Hosts and
            // validators reject subnormal output, so flush once more at the door.
            for ch in chunk.iter_mut() {
                flush_slice(ch);
            }
            start = end;
        }

        meters.limiter_gain_db = gain_to_db(min_gain).min(0.0);
        meters.clipper_gain_db = self.limiter.take_clip_cut_db().min(0.0);
        meters.multiband_gain_db = band_gain_db;
        meters.output_peak_db = output_peak;
        meters.correlation = match channels {
            [l, r] => correlation(l, r),
            _ => 1.0,
        };
        if let Some(loudness) = &self.output_loudness {
            meters.output_loudness = loudness.reading();
            let out = &meters.output_loudness;
            meters.platform_gain_db = all_platform_gains_db(
                out.integrated_lufs,
                out.true_peak_dbtp,
                s.target.target_lufs(),
            );
        }
        meters.learn_state = self.learner.state();
        meters.learned_gain_db = if self.learner.is_active() {
            self.learner.learned_gain_db()
        } else {
            s.target.learned_gain_db
        };
    }

    /// The stages, in signal-path order, over one chunk. Returns the limiter's lowest gain.
    fn process_chunk(&mut self, channels: &mut [&mut [f32]], s: &ChainSettings) -> f32 {
        self.trim.apply(channels, db_to_gain(s.input.trim_db));
        self.eq.process(channels, &s.eq);
        self.match_eq.process(channels, &s.match_eq);
        self.multiband.process(channels, &s.multiband);
        self.stereo.process(channels, &s.stereo);
        let learning = self.learner.is_active();
        if learning {
            self.learner
                .drive(channels, &mut self.drive, s.limiter.drive_db);
        } else {
            let drive_db = s.limiter.drive_db + s.target.learned_gain_db;
            self.drive.apply(channels, db_to_gain(drive_db));
        }
        let output_gain = db_to_gain(s.output.gain_db);
        let min_gain = match &mut self.output_loudness {
            None => self.limiter.process(channels, &s.limiter),
            Some(meter) => {
                // The output meter's true peak, without a second oversampling pass: the
                // limiter's detector reads the peak of every interval it sees and scales it by
                // the gain it applies. Intervals that cannot beat the largest reading so far
                // may be skipped (the output gain never exceeds 0 dB).
                let frames = channels.first().map_or(0, |c| c.len());
                let floor = meter.true_peak();
                self.limiter.process_metered(
                    channels,
                    &s.limiter,
                    Some((&mut self.output_true_peak[..frames], floor)),
                )
            }
        };
        if learning {
            let aim = Aim {
                target_lufs: s.target.target_lufs(),
                drive_db: s.limiter.drive_db,
                offset_db: s.output.gain_db,
                ceiling_dbtp: s.limiter.ceiling_dbtp,
            };
            self.learner.observe(channels, &aim, &s.limiter);
        }
        let Some(meter) = &mut self.output_loudness else {
            self.output.apply(channels, output_gain);
            return min_gain;
        };
        // The peaks ride through the output gain as one more channel, so they get exactly the
        // audio's gain, frame by frame.
        let frames = channels.first().map_or(0, |c| c.len());
        let true_peak = &mut self.output_true_peak[..frames];
        let mut with_peaks = [&mut [][..], &mut [][..], &mut [][..]];
        let n = channels.len();
        for (dst, ch) in with_peaks.iter_mut().zip(channels.iter_mut()) {
            *dst = &mut **ch;
        }
        with_peaks[n] = true_peak;
        self.output.apply(&mut with_peaks[..=n], output_gain);
        meter.note_true_peak(max_abs(&self.output_true_peak[..frames]));
        min_gain
    }
}
