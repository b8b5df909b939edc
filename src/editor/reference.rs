//! Reference matching in the plugin: what the editor has heard of the input, a reference file
//! loaded and measured off the GUI thread, and the match curve written into the `mt_*`
//! parameters.
//!
//! - **The input.** While the window is open the audio thread writes the input's mid
//!   `(L + R) / 2` and side `(L - R) / 2` into two [`AudioTap`] rings (atomic stores only).
//!   [`InputCapture`], on the GUI thread, copies every new sample out of them into growing
//!   buffers, up to [`MAX_CAPTURE_SAMPLES`] per signal. This is the "mix" of the renderer's
//!   matching: the same samples `mid_signal` and `side_signal` would give.
//! - **The measurement is the renderer's.** [`compute_match`] rebuilds L and R from mid and
//!   side and hands them to `render::reference::analyse` (loudest half, Welch spectra, 1/6
//!   octave, K-weighted level), then `match_curves` and `fit_curves`: one implementation, so
//!   the plugin's curve is the renderer's for the same audio (`tests/plugin_reference.rs`).
//! - **Never on the audio thread, never blocking the GUI.** [`Loader::start`] moves a copy of
//!   the capture to a `std::thread`, which decodes the file (`render::decode`, symphonia),
//!   measures and fits, and sends the result back over a channel. The GUI polls it each frame
//!   and only then sets the parameters, through the host, as gestures; the audio thread sees
//!   nothing but parameter values, as for any knob. Errors come back as text to show.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, TryRecvError};

use super::tap::{AudioTap, TAP_CAPACITY};
use crate::dsp::eq::match_curve::{MATCH_SECTIONS, SIDE_BANDS};
use crate::params::matching::MatchParams;
use crate::params::travel::SetParam;
use crate::render::decode::decode_file;
use crate::render::reference::{analyse, fit_curves, match_curves, BandCurve};

/// Samples kept per signal: 2^23, about 175 s at 48 kHz (64 MiB for mid and side together).
/// The loudest half of three minutes of a song is a stable long-term spectrum; beyond it
/// the capture stops growing rather than taking the host's memory.
pub const MAX_CAPTURE_SAMPLES: usize = 1 << 23;
/// Least input to match against: 10 s, the span of three short-term loudness windows.
pub const MIN_CAPTURE_S: f64 = 10.0;

/// The input as the editor has heard it (GUI thread).
#[derive(Debug, Default, Clone)]
pub struct InputCapture {
    pub mid: Vec<f32>,
    pub side: Vec<f32>,
    pub sample_rate: u32,
    /// Tap position of the next sample to copy; `None` until the first update.
    next: Option<usize>,
    /// Samples lost because the GUI fell more than half a ring behind (a stalled window).
    pub skipped: usize,
}

impl InputCapture {
    /// Copies what the taps gained since the last call. A new sample rate starts over.
    pub fn update(&mut self, mid_tap: &AudioTap, side_tap: &AudioTap, sample_rate: u32) {
        if sample_rate != self.sample_rate {
            self.clear();
            self.sample_rate = sample_rate;
        }
        // The audio thread writes mid before side in each block: both hold everything up to
        // the smaller count.
        let end = mid_tap.written().min(side_tap.written());
        let mut next = self.next.unwrap_or(end);
        // Keep to the older half of the ring away from the writer (see `AudioTap::read_from`).
        let oldest_safe = end.saturating_sub(TAP_CAPACITY / 2);
        if next < oldest_safe {
            self.skipped += oldest_safe - next;
            next = oldest_safe;
        }
        let room = MAX_CAPTURE_SAMPLES.saturating_sub(self.mid.len());
        let n = end.saturating_sub(next).min(room);
        if n > 0 {
            let at = self.mid.len();
            self.mid.resize(at + n, 0.0);
            self.side.resize(at + n, 0.0);
            let ok = mid_tap.read_from(next, &mut self.mid[at..])
                && side_tap.read_from(next, &mut self.side[at..]);
            if !ok {
                self.mid.truncate(at);
                self.side.truncate(at);
            }
        }
        self.next = Some(end);
    }

    /// Forgets what was heard (a new song, or the rate changed).
    pub fn clear(&mut self) {
        self.mid.clear();
        self.side.clear();
        self.next = None;
        self.skipped = 0;
    }

    /// Seconds captured.
    pub fn seconds(&self) -> f64 {
        self.mid.len() as f64 / f64::from(self.sample_rate.max(1))
    }
}

/// A measured reference and the curve fitted against the input.
#[derive(Debug, Clone, PartialEq)]
pub struct ReferenceMatch {
    /// The file's name, for the display.
    pub name: String,
    /// Reference and input mid spectra, 1/6 octave, dB re each one's K-weighted level.
    pub reference_mid_db: BandCurve,
    pub input_mid_db: BandCurve,
    /// The wanted mid curve (reference minus input, limited), dB.
    pub wanted_db: BandCurve,
    /// Fitted section gains at 100 %, for `mt_ls`, `mt_b_n`, `mt_hs` and `mt_s_n`.
    pub mid_gains_db: [f32; MATCH_SECTIONS],
    pub side_gains_db: [f32; SIDE_BANDS],
}

/// The match of `reference` against the captured input `mid`/`side` at `sample_rate` (the
/// rate the plugin runs at), by the renderer's analysis and fit, the spectra smoothed by
/// `smoothing_oct` (the `mt_sm` parameter).
pub fn compute_match(
    mid: &[f32],
    side: &[f32],
    sample_rate: u32,
    reference: &[Vec<f32>],
    reference_rate: u32,
    smoothing_oct: f32,
) -> ReferenceMatch {
    // L = M + S and R = M - S: `analyse` takes channels and derives mid and side itself
    // (to within a rounding of the last bit), and measures loudness on L and R as the
    // renderer does on the mix.
    let input = vec![
        mid.iter()
            .zip(side)
            .map(|(m, s)| m + s)
            .collect::<Vec<f32>>(),
        mid.iter().zip(side).map(|(m, s)| m - s).collect(),
    ];
    let input_a = analyse(&input, sample_rate);
    drop(input);
    let ref_a = analyse(reference, reference_rate);
    let (mid_curve, side_curve) = match_curves(&input_a, &ref_a, f64::from(smoothing_oct));
    let stereo = side.iter().any(|&s| s != 0.0);
    let (mid_gains_db, side_gains_db) =
        fit_curves(&mid_curve, &side_curve, sample_rate, stereo, &input_a);
    ReferenceMatch {
        name: String::new(),
        reference_mid_db: ref_a.mid_db,
        input_mid_db: input_a.mid_db,
        wanted_db: mid_curve,
        mid_gains_db,
        side_gains_db,
    }
}

/// Decodes `path` and matches it against `capture` with `smoothing_oct` (runs on the
/// loader's thread).
pub fn load_and_match(
    path: &Path,
    capture: &InputCapture,
    smoothing_oct: f32,
) -> Result<ReferenceMatch, String> {
    if capture.seconds() < MIN_CAPTURE_S {
        return Err(format!(
            "play at least {MIN_CAPTURE_S:.0} s of the mix first ({:.1} s heard)",
            capture.seconds()
        ));
    }
    let decoded = decode_file(path).map_err(|e| e.to_string())?;
    let mut m = compute_match(
        &capture.mid,
        &capture.side,
        capture.sample_rate,
        &decoded.channels,
        decoded.sample_rate,
        smoothing_oct,
    );
    m.name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into(),
    );
    Ok(m)
}

/// Writes the fitted gains into the match parameters, one gesture each. The amount is left
/// where the engineer has it.
pub fn apply_gains(
    params: &MatchParams,
    mid_gains_db: &[f32; MATCH_SECTIONS],
    side_gains_db: &[f32; SIDE_BANDS],
    setter: &impl SetParam,
) {
    setter.set(&params.low_shelf_db, mid_gains_db[0]);
    for (p, g) in params
        .bells
        .iter()
        .zip(&mid_gains_db[1..MATCH_SECTIONS - 1])
    {
        setter.set(&p.gain_db, *g);
    }
    setter.set(&params.high_shelf_db, mid_gains_db[MATCH_SECTIONS - 1]);
    for (p, g) in params.side.iter().zip(side_gains_db) {
        setter.set(&p.gain_db, *g);
    }
}

/// The loader's state, as the editor shows it.
#[derive(Debug, Default)]
pub enum LoadState {
    #[default]
    Idle,
    Busy,
    /// A curve was applied from this match.
    Loaded(Box<ReferenceMatch>),
    Failed(String),
}

/// Runs [`load_and_match`] on its own thread and hands the result back to the GUI.
#[derive(Debug, Default)]
pub struct Loader {
    pub path: String,
    pub state: LoadState,
    pending: Option<Receiver<Result<ReferenceMatch, String>>>,
}

impl Loader {
    /// Starts loading `self.path` against a copy of `capture`, fitted with `smoothing_oct`.
    /// Ignored while one is running.
    pub fn start(&mut self, capture: &InputCapture, smoothing_oct: f32) {
        if self.pending.is_some() {
            return;
        }
        let path = PathBuf::from(self.path.trim());
        let capture = capture.clone();
        let (tx, rx) = mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name("lathe-reference".into())
            .spawn(move || {
                // A panic in a decoder must not take the host down: it becomes an error.
                let result =
                    std::panic::catch_unwind(|| load_and_match(&path, &capture, smoothing_oct))
                        .unwrap_or_else(|_| Err("the reference could not be analysed".into()));
                let _ = tx.send(result);
            });
        match spawned {
            Ok(_) => {
                self.pending = Some(rx);
                self.state = LoadState::Busy;
            }
            Err(e) => self.state = LoadState::Failed(e.to_string()),
        }
    }

    /// The finished match, once, when the thread has sent it (errors go into the state).
    pub fn poll(&mut self) -> Option<ReferenceMatch> {
        let rx = self.pending.as_ref()?;
        let result = match rx.try_recv() {
            Ok(r) => r,
            Err(TryRecvError::Empty) => return None,
            Err(TryRecvError::Disconnected) => Err("the reference loader stopped".into()),
        };
        self.pending = None;
        match result {
            Ok(m) => {
                self.state = LoadState::Loaded(Box::new(m.clone()));
                Some(m)
            }
            Err(e) => {
                self.state = LoadState::Failed(e);
                None
            }
        }
    }

    pub fn busy(&self) -> bool {
        self.pending.is_some()
    }
}
