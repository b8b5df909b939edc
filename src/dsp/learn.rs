//! Loudness targeting: a target (a platform's reference or the engineer's own number), and a
//! Learn mode that sets the drive into the limiter so the master's integrated loudness
//! (ITU-R BS.1770-4) lands on it.
//!
//! **What Learn does.** While Learn is on, the chain hands the drive stage to a [`Learner`].
//! Every 100 ms it records the loudness of the 400 ms gating block that just ended (ITU-R
//! BS.1770-4) with the drive divided out, how hard the limiter worked on it, and how loud
//! the same block came out of two shadow limiters running the program 2 dB quieter and
//! louder (`learn/probe.rs`). From those records it solves for the one fixed drive at which
//! the whole program so far would come out at the target (`learn/model.rs`: exact where a
//! block was measured, interpolated between the shadows, modelled beyond them) and steps the
//! drive toward it. The result hardly depends on the path the drive took while learning:
//! after one pass over a song the master is within a tenth of an LU of the target on the
//! test material, and a second pass, measured around that gain, keeps it there or refines it
//! (tests/learn.rs: ±0.07 LU at -14, -9 and -23 LUFS, on song-shaped real music).
//!
//! **Where the result lives.** The learned gain is a setting (`target.learned_gain_db`): an
//! extra drive into the limiter, applied whether or not Learn is on, so a settings file with
//! it renders the same master offline. The Learner reports its gain in the meters; the plugin
//! copies it into its saved state and hands it back in the settings, so it survives a
//! session reload. Learning restarts from the settings' value when Learn is switched on and
//! after a `reset`.
//!
//! **Contracts.** No allocation in `process` (every buffer is sized in `new`; the records
//! hold an hour of program, after which learning holds its gain and says so). Block-size
//! invariant: records, solves and gain steps happen at sample counts from the start of
//! learning, and a new gain takes effect a fixed [`CHUNK_FRAMES`] samples after the record
//! that produced it, whatever the host's blocks. Gain changes are small steps
//! ([`MAX_STEP_DB`] per 100 ms) through the drive's own smoothing: no clicks.

mod model;
mod probe;

pub use model::{
    energy_to_lufs, lufs_to_energy, BlockMeasurement, BlockModel, Prediction, LUFS_OFFSET,
};
pub use probe::PROBE_DB;

use serde::{Deserialize, Serialize};

use super::chain::CHUNK_FRAMES;
use super::limiter::CEILING_MARGIN_DB;
use super::platforms::Platform;
use super::settings::{LimiterSettings, ParamRange};
use super::smoothed_gain::SmoothedGain;
use super::units::db_to_gain;
use probe::{Shadow, UnitMeter};

/// The custom loudness target, LUFS (used when the preset is [`Platform::Custom`]).
pub const TARGET_LUFS: ParamRange = ParamRange::new(-36.0, -5.0, -14.0);
/// The learned extra drive into the limiter, dB. Negative for a target quieter than the
/// mix (broadcast), up to the drive control's own range above.
pub const LEARNED_GAIN_DB: ParamRange = ParamRange::new(-36.0, 24.0, 0.0);

/// Records the learner keeps: one per 100 ms, an hour of program.
pub const MAX_RECORDS: usize = 36_000;
/// Program measured before the first solve: the first 400 ms block plus 2 s.
pub const MIN_RECORDS: usize = 21;
/// Records between two solves: every 500 ms, or every [`SOLVE_SHARE`]th of the records so
/// far if that is more. A solve costs a few passes over every record, so this keeps the
/// learner's share of the audio thread's time about constant as the program grows (a solve
/// over an hour of records takes a few ms, once every 9 s).
pub const SOLVE_EVERY: usize = 5;
pub const SOLVE_SHARE: usize = 400;
/// The largest step of the applied gain per record (100 ms), dB: 1.5 dB/s, each step
/// smoothed by the drive's 10 ms glide. Slow enough that a quiet intro, which asks for a lot
/// of gain until the song gets going, does not blast the first chorus; fast enough to reach
/// a +12 dB drive within the first verse.
pub const MAX_STEP_DB: f32 = 0.15;

/// The loudness target and what Learn found.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TargetSettings {
    /// Where the master is going; its reference level is the target.
    pub preset: Platform,
    /// The target when `preset` is `custom`, LUFS.
    pub lufs: f32,
    /// Learn: measure the program and set `learned_gain_db` so the output hits the target.
    pub learn: bool,
    /// Extra drive into the limiter, dB (found by Learn; applied always).
    pub learned_gain_db: f32,
}

impl Default for TargetSettings {
    fn default() -> Self {
        Self {
            preset: Platform::default(),
            lufs: TARGET_LUFS.default,
            learn: false,
            learned_gain_db: LEARNED_GAIN_DB.default,
        }
    }
}

impl TargetSettings {
    /// The integrated loudness to aim at, LUFS.
    pub fn target_lufs(&self) -> f32 {
        match self.preset {
            Platform::Custom => TARGET_LUFS.clamp(self.lufs),
            p => p.target_lufs(),
        }
    }

    pub fn clamped(&self) -> Self {
        Self {
            preset: self.preset,
            lufs: TARGET_LUFS.clamp(self.lufs),
            learn: self.learn,
            learned_gain_db: LEARNED_GAIN_DB.clamp(self.learned_gain_db),
        }
    }

    /// The continuous controls with their names in a settings file.
    pub fn controls(&self) -> Vec<(String, f32, ParamRange)> {
        vec![
            ("target.lufs".to_string(), self.lufs, TARGET_LUFS),
            (
                "target.learned_gain_db".to_string(),
                self.learned_gain_db,
                LEARNED_GAIN_DB,
            ),
        ]
    }
}

/// What the learner aims at, from the settings of the block.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Aim {
    /// The integrated loudness the output should have, LUFS.
    pub target_lufs: f32,
    /// The user's drive, on top of which the learned gain goes, dB.
    pub drive_db: f32,
    /// Gain after the limiter (the output gain), dB.
    pub offset_db: f32,
    /// The limiter's ceiling, dBTP.
    pub ceiling_dbtp: f32,
}

/// What the learner is doing, for the meters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LearnState {
    /// Learn is off; the settings' learned gain is applied.
    #[default]
    Off,
    /// Learn is on, not enough program measured yet to say anything.
    Measuring,
    /// Learn is on and the gain follows the measurements.
    Learning,
    /// The target needs more (or less) drive than [`LEARNED_GAIN_DB`] allows with these
    /// settings; the gain sits at the end of the range.
    OutOfRange,
    /// An hour of program has been measured; the gain is held.
    Full,
}

/// Sums over one 100 ms segment of the measured output.
#[derive(Debug, Clone, Copy, Default)]
struct Segment {
    /// Σ u² (u = output over drive).
    unit: f64,
    /// Σ u²·(gain reduction in dB).
    depth: f64,
    /// Σ u²·(gain reduction over the reduction at the peak it releases from).
    relative: f64,
    /// The largest squared sample of the limiter's input.
    peak: f32,
    /// Σ g, for the segment's mean drive.
    gain: f64,
    frames: usize,
}

impl Segment {
    fn merge(self, s: &Segment) -> Segment {
        Segment {
            unit: self.unit + s.unit,
            depth: self.depth + s.depth,
            relative: self.relative + s.relative,
            peak: self.peak.max(s.peak),
            gain: self.gain + s.gain,
            frames: self.frames + s.frames,
        }
    }
}

/// The drive stage while Learn is on, and what it measures. See the module docs.
pub struct Learner {
    /// The limiter's latency: its output at sample n is its input at n − delay.
    delay: usize,
    /// Ring of the limiter's input (per channel) and of the drive gain of each sample.
    driven: [Vec<f32>; 2],
    gains: Vec<f32>,
    ring_pos: usize,
    /// Channels of the block between `drive` and `observe`.
    channels: usize,
    meter: UnitMeter,
    /// The same program through copies of the limiter, [`PROBE_DB`] quieter and louder.
    shadows: [Shadow; 2],
    segment_frames: usize,
    segment: Segment,
    recent: [Segment; 4],
    segments: usize,
    model: BlockModel,
    /// Records at the last solve.
    solved_at: usize,
    /// Samples since learning started (drive side and output side are the same count).
    clock: u64,
    /// The learned gain the solve wants and the one applied now, dB.
    target_db: f32,
    applied_db: f32,
    /// The limiter's gain reduction at the previous sample and at the last peak, dB.
    last_depth_db: f32,
    local_peak_db: f32,
    /// A step of the applied gain waiting for its sample.
    pending: Option<(u64, f32)>,
    state: LearnState,
}

impl std::fmt::Debug for Learner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Learner")
            .field("state", &self.state)
            .field("target_db", &self.target_db)
            .field("applied_db", &self.applied_db)
            .field("records", &self.model.len())
            .finish_non_exhaustive()
    }
}

impl Learner {
    /// A learner for `sample_rate` in front of a limiter for up to `channels` channels that
    /// delays by `delay` samples.
    pub fn new(sample_rate: f32, channels: usize, delay: usize) -> Self {
        let ring = delay + CHUNK_FRAMES + 1;
        Self {
            delay,
            driven: [vec![0.0; ring], vec![0.0; ring]],
            gains: vec![1.0; ring],
            ring_pos: 0,
            channels: 2,
            meter: UnitMeter::new(sample_rate),
            shadows: [
                Shadow::new(sample_rate, channels, -PROBE_DB),
                Shadow::new(sample_rate, channels, PROBE_DB),
            ],
            // ebur128's own 100 ms, so its momentary window ends exactly on our segments.
            segment_frames: ((sample_rate as usize + 5) / 10).max(1),
            segment: Segment::default(),
            recent: [Segment::default(); 4],
            segments: 0,
            model: BlockModel::with_capacity(MAX_RECORDS),
            solved_at: 0,
            clock: 0,
            target_db: 0.0,
            applied_db: 0.0,
            last_depth_db: 0.0,
            local_peak_db: 0.0,
            pending: None,
            state: LearnState::Off,
        }
    }

    /// Starts learning from `learned_gain_db` (the settings' value): forgets every record.
    pub fn start(&mut self, learned_gain_db: f32) {
        let g = LEARNED_GAIN_DB.clamp(learned_gain_db);
        self.target_db = g;
        self.applied_db = g;
        self.pending = None;
        self.clock = 0;
        self.segment = Segment::default();
        self.segments = 0;
        self.last_depth_db = 0.0;
        self.local_peak_db = 0.0;
        self.model.clear();
        // The first solve comes at MIN_RECORDS.
        self.solved_at = MIN_RECORDS - SOLVE_EVERY;
        // The limiter's output during the first `delay` samples left it before learning
        // began: measured as if undriven (it is silence after a reset).
        self.gains.fill(1.0);
        for d in &mut self.driven {
            d.fill(0.0);
        }
        self.meter.reset();
        for s in &mut self.shadows {
            s.reset();
        }
        self.state = LearnState::Measuring;
    }

    /// Stops learning; the settings' learned gain applies again.
    pub fn stop(&mut self) {
        self.state = LearnState::Off;
    }

    pub fn is_active(&self) -> bool {
        self.state != LearnState::Off
    }

    pub fn state(&self) -> LearnState {
        self.state
    }

    /// The learned gain to report and keep, dB: where the learner is heading.
    pub fn learned_gain_db(&self) -> f32 {
        self.target_db
    }

    /// The learned gain applied now, dB (it steps toward [`Learner::learned_gain_db`]).
    pub fn applied_db(&self) -> f32 {
        self.applied_db
    }

    /// What has been measured so far (one record per 100 ms), for tests and analysis.
    pub fn model(&self) -> &BlockModel {
        &self.model
    }

    /// The drive stage: applies `drive_db` plus the learned gain through `drive`, sample by
    /// sample, and keeps what the limiter (and its shadows) will be given. Blocks of at most
    /// [`CHUNK_FRAMES`].
    pub fn drive(&mut self, channels: &mut [&mut [f32]], drive: &mut SmoothedGain, drive_db: f32) {
        let frames = channels.first().map_or(0, |c| c.len());
        debug_assert!(frames <= CHUNK_FRAMES, "the chain hands over chunks");
        let frames = frames.min(CHUNK_FRAMES);
        self.channels = channels.len().clamp(1, 2);
        let cap = self.gains.len();
        let mut target = drive.set_target(db_to_gain(drive_db + self.applied_db));
        for i in 0..frames {
            if let Some((at, db)) = self.pending {
                if self.clock + i as u64 >= at {
                    self.applied_db = db;
                    self.pending = None;
                    target = db_to_gain(drive_db + db);
                }
            }
            let g = drive.next(target);
            let pos = (self.ring_pos + i) % cap;
            self.gains[pos] = g;
            for c in 0..2 {
                let d = match channels.get_mut(c) {
                    Some(ch) => {
                        ch[i] *= g;
                        ch[i]
                    }
                    None => 0.0,
                };
                self.driven[c][pos] = d;
                for s in &mut self.shadows {
                    s.audio[c][i] = d * s.factor;
                }
            }
        }
    }

    /// Measures the limiter's output for the block `drive` just handled (same length), and
    /// solves for a new gain on the record boundaries.
    pub fn observe(&mut self, channels: &[&mut [f32]], aim: &Aim, limiter: &LimiterSettings) {
        let frames = channels.first().map_or(0, |c| c.len()).min(CHUNK_FRAMES);
        let n_ch = if channels.len() >= 2 {
            self.channels
        } else {
            1
        };
        for s in &mut self.shadows {
            s.run(frames, n_ch, limiter);
        }
        let cap = self.gains.len();
        let mut start = 0;
        while start < frames {
            // Up to the next segment end, so the meters' windows line up with our records.
            let end = frames.min(start + self.segment_frames - self.segment.frames);
            // One index into five buffers, two of them rings at an offset.
            #[allow(clippy::needless_range_loop)]
            for i in start..end {
                // The limiter's input for this output sample went in `delay` samples ago.
                let pos = (self.ring_pos + cap + i - self.delay) % cap;
                let g = self.gains[pos];
                let inv = 1.0 / g;
                let (yl, dl) = (channels[0][i], self.driven[0][pos]);
                let (yr, dr) = if n_ch == 2 {
                    (channels[1][i], self.driven[1][pos])
                } else {
                    (yl, dl)
                };
                let k = i - start;
                self.meter.unit[0][k] = yl * inv;
                self.meter.unit[1][k] = yr * inv;
                for s in &mut self.shadows {
                    let scale = inv * s.inv_factor;
                    let sl = s.audio[0][i];
                    let sr = if n_ch == 2 { s.audio[1][i] } else { sl };
                    s.meter.unit[0][k] = sl * scale;
                    s.meter.unit[1][k] = sr * scale;
                }
                self.measure(yl, yr, dl, dr, g);
            }
            let n = end - start;
            self.meter.feed(n);
            for s in &mut self.shadows {
                s.meter.feed(n);
            }
            self.segment.frames += n;
            if self.segment.frames == self.segment_frames {
                let boundary = self.clock + end as u64;
                self.close_segment(boundary, aim);
            }
            start = end;
        }
        self.ring_pos = (self.ring_pos + frames) % cap;
        self.clock += frames as u64;
    }

    /// One output sample `y` of limiter input `d`, at drive `g`: what the limiter did to it.
    #[inline]
    fn measure(&mut self, yl: f32, yr: f32, dl: f32, dr: f32, g: f32) {
        let out_energy = yl * yl + yr * yr;
        let in_energy = dl * dl + dr * dr;
        // The limiter only ever turns down (one gain for both channels), and an idle one
        // passes samples exactly: anything quieter than its input was limited.
        let depth_db = if out_energy < in_energy {
            let d = 10.0 * (in_energy / out_energy).log10();
            if d.is_finite() {
                d
            } else {
                0.0
            }
        } else {
            0.0
        };
        // The reduction at the peak this sample's reduction releases from: the limiter's
        // gain falls to a peak's need, holds, then releases.
        if depth_db >= self.last_depth_db || depth_db == 0.0 {
            self.local_peak_db = depth_db;
        }
        self.last_depth_db = depth_db;
        let unit_energy = out_energy as f64 / (g as f64 * g as f64);
        let s = &mut self.segment;
        s.unit += unit_energy;
        if depth_db > 0.0 {
            s.depth += unit_energy * depth_db as f64;
            s.relative += unit_energy * (depth_db / self.local_peak_db) as f64;
        }
        s.peak = s.peak.max(dl * dl).max(dr * dr);
        s.gain += g as f64;
    }

    /// A segment ended at sample `boundary`: record the 400 ms block that ends with it, and
    /// step the gain.
    fn close_segment(&mut self, boundary: u64, aim: &Aim) {
        self.recent.rotate_left(1);
        self.recent[3] = self.segment;
        self.segment = Segment::default();
        self.segments += 1;
        if self.segments < 4 || self.state == LearnState::Full {
            return;
        }
        let block = self
            .recent
            .iter()
            .fold(Segment::default(), |a, s| a.merge(s));
        let mean_gain = block.gain / block.frames.max(1) as f64;
        let threshold_db = (aim.ceiling_dbtp - CEILING_MARGIN_DB) as f64;
        let peak_db = 10.0 * (block.peak as f64).max(1e-30).log10();
        let energy = self.meter.energy();
        // The shadows' level relative to the real output, dB (the drive they add included).
        let change = |s: &Shadow| {
            let e = s.meter.energy();
            let gain_db = 20.0 * (s.factor as f64).log10();
            if energy > 0.0 && e > 0.0 {
                10.0 * (e / energy).log10() + gain_db
            } else {
                gain_db
            }
        };
        let per_unit = |sum: f64| {
            if block.unit > 0.0 {
                sum / block.unit
            } else {
                0.0
            }
        };
        let measurement = BlockMeasurement {
            unit_energy: energy,
            drive_db: 20.0 * mean_gain.max(1e-12).log10(),
            lower_db: change(&self.shadows[0]),
            upper_db: change(&self.shadows[1]),
            mean_depth_db: per_unit(block.depth),
            mean_relative_depth: per_unit(block.relative),
            headroom_db: (threshold_db - peak_db).max(0.0),
        };
        if !self.model.push(&measurement) && self.model.is_full() {
            self.state = LearnState::Full;
            return;
        }
        let records = self.model.len();
        if records >= MIN_RECORDS
            && records - self.solved_at >= SOLVE_EVERY.max(records / SOLVE_SHARE)
        {
            self.solved_at = records;
            self.solve(aim);
        }
        if self.state != LearnState::Measuring && self.applied_db != self.target_db {
            let step = (self.target_db - self.applied_db).clamp(-MAX_STEP_DB, MAX_STEP_DB);
            // Applied a fixed distance later: past the end of any block being processed now,
            // so where the host's blocks fall does not matter.
            self.pending = Some((boundary + CHUNK_FRAMES as u64, self.applied_db + step));
        }
    }

    fn solve(&mut self, aim: &Aim) {
        let drive = aim.drive_db as f64;
        let solved = self.model.solve(
            aim.target_lufs as f64,
            aim.offset_db as f64,
            drive + LEARNED_GAIN_DB.min as f64,
            drive + LEARNED_GAIN_DB.max as f64,
            drive + self.target_db as f64,
        );
        if let Some((g, reachable)) = solved {
            let learned = (g - drive) as f32;
            if learned.is_finite() {
                self.target_db = LEARNED_GAIN_DB.clamp(learned);
                self.state = if reachable {
                    LearnState::Learning
                } else {
                    LearnState::OutOfRange
                };
            }
        }
    }
}
