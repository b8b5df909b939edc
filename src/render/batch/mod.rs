//! Batch mastering (`lathe batch manifest.csv`): a manifest of tracks, each a render job,
//! checked all together before any work, rendered several at once, each leaving a
//! completion record so a rerun skips what is done ([`record`]), and split between the
//! tasks of an array job ([`shard`]). The command line builds each row's [`RenderJob`] with
//! the same code as `render`'s options, prints progress and writes the batch report.

pub mod manifest;
pub mod record;
pub mod shard;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use super::{Cancel, RenderError, RenderJob, Stage};
pub use manifest::{Row, RowError};
pub use record::Record;
pub use shard::Shard;

/// One track to master.
#[derive(Debug, Clone)]
pub struct Track {
    /// The manifest line it came from.
    pub line: usize,
    pub job: RenderJob,
    /// [`record::inputs_hash`] of its row.
    pub inputs_md5: String,
}

/// What became of a track.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Rendered now; its record is written.
    Done(Record),
    /// Its record matched: nothing was rendered.
    Skipped(Record),
    /// Why it failed; its folder is as it was (the render commits only complete masters).
    Failed(String),
    /// Ctrl-C came before it finished (or started).
    Cancelled,
}

/// What the runner tells the caller while it works.
#[derive(Debug)]
pub enum Event<'a> {
    Started,
    Progress(Stage, f64),
    Finished(&'a Outcome),
}

/// Whether `track` is already done: its record matches its inputs and its files are there.
pub fn already_done(track: &Track) -> Option<Record> {
    record::matching(&record::record_path(&track.job), &track.inputs_md5)
}

/// Rejects rows that would write the same files: two rows with one output folder and one
/// master name (title, else the mix's stem) would overwrite each other's masters.
pub fn check_distinct(tracks: &[Track]) -> Vec<RowError> {
    let mut errors = Vec::new();
    for (i, t) in tracks.iter().enumerate() {
        let name = t.job.master_name();
        if let Some(first) = tracks[..i]
            .iter()
            .find(|o| o.job.out_dir == t.job.out_dir && o.job.master_name() == name)
        {
            errors.push(RowError::new(
                t.line,
                format!(
                    "writes the same files as line {} ({} in {}); give it another title or out",
                    first.line,
                    name,
                    t.job.out_dir.display()
                ),
            ));
        }
    }
    errors
}

/// Renders `tracks` on up to `jobs` threads, taking the next track from a shared queue as
/// each finishes; every job should share `cancel`, so one Ctrl-C stops them all. A track
/// whose record matches is skipped. Outcomes come back in the tracks' order.
///
/// The renderer has no thread count of its own to hand down: each render runs at most two
/// threads at a time (the mix's analysis alongside mastering, the MP3 encode alongside the
/// other deliverables), so `jobs` renders use up to twice as many threads, part of the time.
pub fn run(
    tracks: &[Track],
    jobs: usize,
    cancel: &Cancel,
    event: &(dyn Fn(usize, Event<'_>) + Sync),
) -> Vec<Outcome> {
    let next = AtomicUsize::new(0);
    let outcomes: Mutex<Vec<Option<Outcome>>> = Mutex::new(vec![None; tracks.len()]);
    let worker = || loop {
        let i = next.fetch_add(1, Ordering::SeqCst);
        let Some(track) = tracks.get(i) else {
            break;
        };
        let outcome = if cancel.is_cancelled() {
            Outcome::Cancelled
        } else if let Some(record) = already_done(track) {
            Outcome::Skipped(record)
        } else {
            event(i, Event::Started);
            render_track(track, &mut |stage, f| event(i, Event::Progress(stage, f)))
        };
        event(i, Event::Finished(&outcome));
        if let Ok(mut o) = outcomes.lock() {
            o[i] = Some(outcome);
        }
    };
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, tracks.len().max(1)) {
            scope.spawn(worker);
        }
    });
    outcomes
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(|o| o.unwrap_or(Outcome::Cancelled))
        .collect()
}

/// Renders one track and writes its record. A record left by an earlier run with other
/// inputs means the masters there are this track's own: they are replaced (only once the
/// new ones are complete and verified, as `--force` does).
fn render_track(track: &Track, progress: &mut dyn FnMut(Stage, f64)) -> Outcome {
    let path = record::record_path(&track.job);
    let mut job = track.job.clone();
    job.force |= path.is_file();
    match super::render(&job, progress) {
        Ok(report) => {
            let record = Record::from_report(track.inputs_md5.clone(), &report);
            match record::write(&path, &record) {
                Ok(()) => Outcome::Done(record),
                Err(e) => Outcome::Failed(format!(
                    "{}: the masters are written but the record is not ({e})",
                    path.display()
                )),
            }
        }
        Err(RenderError::Cancelled) => Outcome::Cancelled,
        Err(e) => Outcome::Failed(e.to_string()),
    }
}
