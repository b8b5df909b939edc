//! Independent pieces of a render (rate conversions, encodes, verifications) run on threads
//! of their own, so both cores of a small machine work. Scoped threads: no `'static` copies
//! of the audio, and every thread has ended when the call returns.

use super::error::RenderError;

/// Applies `f` to every item on its own thread; the results come back in the items' order.
/// The first error wins; a panicking worker becomes [`RenderError::WorkerPanicked`].
pub fn map<I, T, F>(items: &[I], f: F) -> Result<Vec<T>, RenderError>
where
    I: Sync,
    T: Send,
    F: Fn(&I) -> Result<T, RenderError> + Sync,
{
    std::thread::scope(|scope| {
        let f = &f;
        let workers: Vec<_> = items
            .iter()
            .map(|item| scope.spawn(move || f(item)))
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or(Err(RenderError::WorkerPanicked)))
            .collect()
    })
}
