//! Stopping a render half-way (Ctrl-C) without leaving anything half-written: the renderer
//! polls a shared flag between blocks and stages, and the staging folder it writes into is
//! removed on the way out.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::error::RenderError;

/// A flag any thread may set; cloning shares it.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// `Err(RenderError::Cancelled)` once the flag is set.
    pub fn check(&self) -> Result<(), RenderError> {
        if self.is_cancelled() {
            Err(RenderError::Cancelled)
        } else {
            Ok(())
        }
    }
}
