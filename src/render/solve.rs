//! Exact loudness: finds the gain into the limiter that puts the master's integrated loudness
//! (ITU-R BS.1770-4, gated) on the target, by running the whole chain over the whole mix and
//! measuring, as many times as it takes.
//!
//! Loudness as a function of the gain, `L(g)`, is smooth and increasing: with no limiting it
//! is `L(0) + g`, and as the limiter works harder each extra dB of gain buys less. The secant
//! method on `L(g) - target` therefore converges in two to four passes from a first guess
//! based on the mix's own loudness.
//!
//! The whole gain goes *before* the limiter (DESIGN.md: "the limiter works only where the
//! ceiling demands it"): a positive gain as the drive, a negative one as the learned gain
//! (`target.learned_gain_db`, the pre-limiter gain that the plugin's Learn sets too). A mix
//! that only needs turning down is then turned down before the limiter sees it, so the
//! limiter stays idle and the master is the mix times one gain. Turning down *after* the
//! limiter, as Lathe did before, limited a hot mix to the ceiling first and then dropped it
//! under the ceiling: limiting nobody needed, and a master that peaked short of the ceiling.

use ebur128::{EbuR128, Mode};

use super::cancel::Cancel;
use super::error::RenderError;
use super::fade::Fades;
use super::master::{master_pass, measure_pass, Mastered};
use crate::dsp::learn::LEARNED_GAIN_DB;
use crate::dsp::settings::DRIVE_DB;
use crate::dsp::ChainSettings;

/// Passes stop once the master is this close to the target. The deliverables are measured
/// again after rate conversion and dither, which move the loudness by a few thousandths of a
/// LU, well inside the ±0.1 LU the renderer promises.
pub const TOLERANCE_LU: f64 = 0.02;
/// Rounds (of two passes each) before the solver settles for the closest.
pub const MAX_ROUNDS: usize = 4;
/// The first round's probe sits this far above the first guess.
const FIRST_PROBE_DB: f64 = 2.0;
/// Below this many LU per dB of gain the limiter is saturated: the target is out of reach.
pub const SATURATED_SLOPE: f64 = 0.05;
/// Limiting beyond this, at the loudest peak, is reported as heavy.
pub const HEAVY_LIMITING_DB: f32 = 6.0;
/// The "how loud can it get" figure is taken at this much limiting.
pub const MODERATE_LIMITING_DB: f32 = 3.0;

/// The master the solver settled on.
#[derive(Debug, Clone)]
pub struct Solution {
    /// The settings that made it: the input settings with drive and output gain solved.
    pub settings: ChainSettings,
    pub mastered: Mastered,
    pub integrated_lufs: f64,
    /// Chain passes run, the last one included.
    pub passes: usize,
    /// False when the target lies beyond the drive's range (the master is as loud as
    /// 24 dB of drive makes it).
    pub reached: bool,
    /// Loudness the master reaches with [`MODERATE_LIMITING_DB`] of limiting at its loudest
    /// peak; measured (one more pass) only when the solution limits more than
    /// [`HEAVY_LIMITING_DB`].
    pub loudness_at_moderate_limiting: Option<f64>,
    /// How many LU each dB of gain into the limiter buys at the solution, from the two
    /// passes nearest the target; the MP3's codec stage starts from it (`deliver.rs`).
    pub slope_lu_per_db: Option<f64>,
}

/// The loudness slope at the target from the passes measured: the secant from the pass
/// nearest it to the nearest pass at least [`SLOPE_SPAN_DB`] away, within the (0, 1] LU per
/// dB that limiting allows. The last round's two passes sit a tenth of a dB apart, where the
/// gated loudness is too bumpy for a slope (on the demo mix they gave 0.05 where the curve's
/// slope was 0.4).
pub(crate) fn slope_near(points: &[(f64, f64)], target_lufs: f64) -> Option<f64> {
    let mut by_distance: Vec<_> = points.iter().filter(|p| p.1.is_finite()).collect();
    by_distance.sort_by(|a, b| {
        (a.1 - target_lufs)
            .abs()
            .total_cmp(&(b.1 - target_lufs).abs())
    });
    let (a, rest) = by_distance.split_first()?;
    let b = rest.iter().find(|b| (b.0 - a.0).abs() >= SLOPE_SPAN_DB)?;
    Some(((a.1 - b.1) / (a.0 - b.0)).clamp(SATURATED_SLOPE, 1.0))
}

/// Passes closer than this in gain give no slope (see [`slope_near`]).
const SLOPE_SPAN_DB: f64 = 0.5;

/// Integrated loudness of planar audio; mono counts as dual mono, as it plays.
pub fn integrated_lufs(channels: &[Vec<f32>], rate: u32) -> f64 {
    let planar: Vec<&[f32]> = match channels {
        [mono] => vec![mono, mono],
        _ => channels.iter().map(|c| &c[..]).collect(),
    };
    EbuR128::new(planar.len() as u32, rate, Mode::I)
        .and_then(|mut m| {
            m.add_frames_planar_f32(&planar)?;
            m.loudness_global()
        })
        .unwrap_or(f64::NEG_INFINITY)
}

/// `settings` with a gain `g` before the limiter: the positive part as the drive, the
/// negative part added to the learned gain (both go into the limiter; see the module doc).
/// The output gain after the limiter stays as the settings have it.
pub(crate) fn with_gain(base: &ChainSettings, gain_db: f64) -> ChainSettings {
    let mut s = *base;
    s.limiter.drive_db = (gain_db.max(0.0) as f32).min(DRIVE_DB.max);
    s.target.learned_gain_db =
        (base.target.learned_gain_db + gain_db.min(0.0) as f32).max(LEARNED_GAIN_DB.min);
    s
}

/// The lowest and highest gain the settings can express.
fn gain_range(base: &ChainSettings) -> (f64, f64) {
    let lowest = (LEARNED_GAIN_DB.min - base.target.learned_gain_db) as f64;
    (lowest.min(0.0), DRIVE_DB.max as f64)
}

struct Pass {
    gain_db: f64,
    lufs: f64,
    peak_limiting_db: f32,
    /// The master itself, for the one pass of a round that keeps it (see [`run_round`]).
    mastered: Option<Mastered>,
}

/// Runs one pass at total gain `gain_db`, fades included, and measures it; keeps the master
/// only if `keep`.
#[allow(clippy::too_many_arguments)]
fn run(
    channels: &[Vec<f32>],
    rate: u32,
    base: &ChainSettings,
    gain_db: f64,
    fades: &Fades,
    keep: bool,
    cancel: &Cancel,
    progress: &mut dyn FnMut(f64),
) -> Result<Pass, RenderError> {
    let settings = with_gain(base, gain_db);
    if !keep {
        let m = measure_pass(channels, rate, &settings, fades, cancel, progress)?;
        return Ok(Pass {
            gain_db,
            lufs: m.integrated_lufs,
            peak_limiting_db: m.peak_limiting_db,
            mastered: None,
        });
    }
    let mut mastered = master_pass(channels, rate, &settings, cancel, progress)?;
    fades.apply(&mut mastered.channels, rate);
    Ok(Pass {
        gain_db,
        lufs: integrated_lufs(&mastered.channels, rate),
        peak_limiting_db: mastered.peak_limiting_db,
        mastered: Some(mastered),
    })
}

/// Runs passes at each of `gains` side by side, one thread each; the first runs on the
/// calling thread, which reports its progress. Only the first, the estimate, keeps its
/// master: the others probe the slope and need only their loudness, so a round holds one
/// master, not one per pass (memory, issue 8).
#[allow(clippy::too_many_arguments)]
fn run_round(
    channels: &[Vec<f32>],
    rate: u32,
    base: &ChainSettings,
    gains: &[f64],
    fades: &Fades,
    cancel: &Cancel,
    progress: &mut dyn FnMut(f64),
) -> Result<Vec<Pass>, RenderError> {
    std::thread::scope(|scope| {
        let others: Vec<_> = gains[1..]
            .iter()
            .map(|&g| {
                scope.spawn(move || run(channels, rate, base, g, fades, false, cancel, &mut |_| {}))
            })
            .collect();
        let first = run(
            channels, rate, base, gains[0], fades, true, cancel, progress,
        );
        let mut passes = vec![first];
        passes.extend(
            others
                .into_iter()
                .map(|w| w.join().unwrap_or(Err(RenderError::WorkerPanicked))),
        );
        passes.into_iter().collect()
    })
}

/// The next gain to try, from every `(gain, loudness)` measured so far: linear
/// interpolation between the nearest points either side of the target when there are such,
/// otherwise the secant through the two nearest. `None` when the loudness no longer grows
/// with the gain (the limiter is saturated) below the target.
pub(crate) fn next_gain(points: &[(f64, f64)], target_lufs: f64) -> Option<f64> {
    let nearest = |below: bool| {
        points
            .iter()
            .filter(|(_, l)| (*l < target_lufs) == below && l.is_finite())
            .min_by(|a, b| {
                (a.1 - target_lufs)
                    .abs()
                    .total_cmp(&(b.1 - target_lufs).abs())
            })
            .copied()
    };
    let (a, b) = match (nearest(true), nearest(false)) {
        (Some(lo), Some(hi)) => (lo, hi),
        _ => {
            let mut by_distance: Vec<_> = points.iter().filter(|p| p.1.is_finite()).collect();
            by_distance.sort_by(|a, b| {
                (a.1 - target_lufs)
                    .abs()
                    .total_cmp(&(b.1 - target_lufs).abs())
            });
            match by_distance[..] {
                [a, b, ..] => (*a, *b),
                [a] => return Some(a.0 + target_lufs - a.1),
                [] => return None,
            }
        }
    };
    let slope = if (a.0 - b.0).abs() > 1e-9 {
        (a.1 - b.1) / (a.0 - b.0)
    } else {
        1.0
    };
    if slope < SATURATED_SLOPE && a.1.max(b.1) < target_lufs {
        return None;
    }
    // Limiting only ever flattens the curve: between 0 and 1 LU per dB.
    let slope = slope.clamp(SATURATED_SLOPE, 1.0);
    Some(a.0 + (target_lufs - a.1) / slope)
}

/// Whether `pass` should replace `best`: the one closer to the target, except that of two
/// passes both on target, the one that kept its master wins (the other would cost a pass
/// to make its master again, for a difference inside the tolerance).
fn better(pass: &Pass, best: &Pass, target_lufs: f64) -> bool {
    let miss = |p: &Pass| (p.lufs - target_lufs).abs();
    if miss(pass) <= TOLERANCE_LU && miss(best) <= TOLERANCE_LU {
        return pass.mastered.is_some() && best.mastered.is_none();
    }
    miss(pass) < miss(best)
}

/// Solves the gain so that the master's integrated loudness is `target_lufs`.
/// `source_lufs` (the mix's own loudness) seeds the first guess. Each round runs
/// two passes side by side (the estimate and a probe next to it, which
/// gives the local slope), so both cores work. `progress` gets `(round, fraction)`.
#[allow(clippy::too_many_arguments)]
pub fn solve(
    channels: &[Vec<f32>],
    rate: u32,
    base: &ChainSettings,
    target_lufs: f64,
    source_lufs: f64,
    fades: &Fades,
    cancel: &Cancel,
    progress: &mut dyn FnMut(usize, f64),
) -> Result<Solution, RenderError> {
    let base = base.clamped();
    let (lowest, highest) = gain_range(&base);
    // The gain that would put the mix on target if nothing limited it: the gain replaces
    // the settings' drive, and adds to their trim, learned gain and output gain. (It started
    // from the settings' drive before, which left the README's demo, 5 dB into the limiter,
    // 5 dB too loud at the first pass and a round short at the end.)
    let fixed_gains_db =
        (base.input.trim_db + base.target.learned_gain_db + base.output.gain_db) as f64;
    let first_guess = if source_lufs.is_finite() {
        target_lufs - source_lufs - fixed_gains_db
    } else {
        base.limiter.drive_db as f64
    };

    let mut points: Vec<(f64, f64)> = Vec::new();
    let mut best: Option<Pass> = None;
    let mut passes = 0;
    let mut round = 0;
    // Without limiting the first guess is already on target; with it, the probe 2 dB
    // further shows how much each dB still buys.
    let mut gains = vec![first_guess, first_guess + FIRST_PROBE_DB];
    let reached = loop {
        round += 1;
        // Another round means the best so far missed: its master is let go before the
        // round makes a new one (it is made again at the end in the rare case it still
        // wins), so the solve never holds more than one master.
        if let Some(b) = &mut best {
            b.mastered = None;
        }
        gains = gains.iter().map(|g| g.clamp(lowest, highest)).collect();
        gains.dedup_by(|a, b| (*a - *b).abs() < 1e-3);
        let results = run_round(channels, rate, &base, &gains, fades, cancel, &mut |f| {
            progress(round, f)
        })?;
        passes += results.len();
        for pass in results {
            points.push((pass.gain_db, pass.lufs));
            if best.as_ref().is_none_or(|b| better(&pass, b, target_lufs)) {
                best = Some(pass);
            }
        }
        let Some(b) = &best else { break false };
        if (b.lufs - target_lufs).abs() <= TOLERANCE_LU {
            break true;
        }
        if round >= MAX_ROUNDS {
            break false;
        }
        let Some(next) = next_gain(&points, target_lufs).map(|g| g.clamp(lowest, highest)) else {
            break false;
        };
        if points.iter().any(|(g, _)| (next - g).abs() < 1e-3) {
            // Pinned at the end of the range, or back where it was: out of reach.
            break false;
        }
        // The probe goes a little beyond the estimate, so the next round can interpolate
        // between points either side of the target.
        let step = next - b.gain_db;
        let probe = next + (0.2 * step).abs().max(0.05) * step.signum();
        gains = vec![next, probe];
    };
    let Some(best) = best else {
        return Err(RenderError::Unsupported {
            what: "the loudness solve ran no pass".into(),
        });
    };
    let mastered = match best.mastered {
        Some(m) => m,
        None => {
            // A probe, or the best of an earlier round, won: make its master.
            round += 1;
            passes += 1;
            let pass = run(
                channels,
                rate,
                &base,
                best.gain_db,
                fades,
                true,
                cancel,
                &mut |f| progress(round, f),
            )?;
            pass.mastered.ok_or(RenderError::WorkerPanicked)?
        }
    };

    let loudness_at_moderate_limiting = if -best.peak_limiting_db > HEAVY_LIMITING_DB {
        // At a brick-wall limiter's loudest peak, each dB of gain is a dB of gain
        // reduction, so backing off by the excess leaves the moderate amount.
        let excess = (-best.peak_limiting_db - MODERATE_LIMITING_DB) as f64;
        round += 1;
        let pass = run(
            channels,
            rate,
            &base,
            best.gain_db - excess,
            fades,
            false,
            cancel,
            &mut |f| progress(round, f),
        )?;
        passes += 1;
        Some(pass.lufs)
    } else {
        None
    };

    Ok(Solution {
        settings: with_gain(&base, best.gain_db),
        integrated_lufs: best.lufs,
        mastered,
        passes,
        reached,
        loudness_at_moderate_limiting,
        slope_lu_per_db: slope_near(&points, target_lufs),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_gain_goes_before_the_limiter() {
        let base = ChainSettings::default();
        let s = with_gain(&base, -5.0);
        assert_eq!(
            (
                s.limiter.drive_db,
                s.target.learned_gain_db,
                s.output.gain_db
            ),
            (0.0, -5.0, 0.0)
        );
        let s = with_gain(&base, 7.5);
        assert_eq!(
            (
                s.limiter.drive_db,
                s.target.learned_gain_db,
                s.output.gain_db
            ),
            (7.5, 0.0, 0.0)
        );
        let s = with_gain(&base, 99.0);
        assert_eq!(s.limiter.drive_db, DRIVE_DB.max);
        assert_eq!(
            gain_range(&base),
            (LEARNED_GAIN_DB.min as f64, DRIVE_DB.max as f64)
        );
        // The user's output gain after the limiter is theirs, never the solve's.
        let mut quieter = base;
        quieter.output.gain_db = -2.0;
        assert_eq!(with_gain(&quieter, -5.0).output.gain_db, -2.0);
    }
}
