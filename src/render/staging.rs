//! Deliverables are written into a hidden staging folder inside the output folder and moved
//! to their final names only when every one of them has been written and verified. An error,
//! a failed check or Ctrl-C therefore leaves the output folder as it was: no partial file, no
//! half set of masters, and an existing master replaced (with `--force`) only by a complete,
//! verified one. Renaming within one folder tree is atomic on the same filesystem.

use std::path::{Path, PathBuf};

use super::error::RenderError;

/// The number of this process's next staging folder.
static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

#[derive(Debug)]
pub struct Staging {
    dir: PathBuf,
    committed: bool,
    /// The outermost folder on the way to the output folder that this staging created, if
    /// any: a render that fails or is stopped removes it again, so nothing new is left
    /// behind (issue 18).
    created: Option<PathBuf>,
}

/// The outermost missing folder of `dir` (`dir` itself when only it is missing), or `None`
/// when `dir` exists.
fn outermost_missing(dir: &Path) -> Option<PathBuf> {
    let mut missing = None;
    for a in dir.ancestors() {
        // `Path::new("")`, the last ancestor of a relative path, is the working folder.
        if a.as_os_str().is_empty() || a.exists() {
            break;
        }
        missing = Some(a.to_path_buf());
    }
    missing
}

/// Removes the empty folders from `dir` up to and including `top` (never a folder with
/// something in it: `remove_dir` refuses those).
fn remove_created(dir: &Path, top: &Path) {
    for a in dir.ancestors() {
        if std::fs::remove_dir(a).is_err() || a == top {
            break;
        }
    }
}

impl Staging {
    /// Creates `<out_dir>/.lathe-staging-<pid>-<n>/` (and `out_dir` if needed). Creating it
    /// is the test that the output folder is writable, so it runs before any work does.
    /// `n` counts the stagings of this process: a batch renders several tracks at once, and
    /// two of them may share an output folder; with the pid alone the second would remove
    /// the first one's staging folder.
    pub fn create(out_dir: &Path) -> Result<Self, RenderError> {
        let created = outermost_missing(out_dir);
        let not_writable = |path: &Path, cause| RenderError::OutputNotWritable {
            path: path.to_path_buf(),
            cause,
        };
        if let Err(e) = std::fs::create_dir_all(out_dir) {
            if let Some(top) = &created {
                remove_created(out_dir, top);
            }
            return Err(not_writable(out_dir, e));
        }
        // From here on `Drop` cleans up whatever fails.
        let staging = Self {
            dir: out_dir.join(format!(
                ".lathe-staging-{}-{}",
                std::process::id(),
                NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            )),
            committed: false,
            created,
        };
        if staging.dir.exists() {
            std::fs::remove_dir_all(&staging.dir).map_err(|e| RenderError::io(&staging.dir, e))?;
        }
        // The error names the output folder the user chose, not the hidden staging folder.
        std::fs::create_dir(&staging.dir).map_err(|e| not_writable(out_dir, e))?;
        Ok(staging)
    }

    /// The staging folder itself.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where a file to be delivered as `name` is written first.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Moves every staged file to `out_dir` under its own name, replacing what is there.
    pub fn commit(mut self, out_dir: &Path) -> Result<Vec<PathBuf>, RenderError> {
        let mut moved = Vec::new();
        let entries = std::fs::read_dir(&self.dir).map_err(|e| RenderError::io(&self.dir, e))?;
        let mut names: Vec<_> = entries
            .filter_map(Result::ok)
            .map(|e| e.file_name())
            .collect();
        names.sort();
        for name in names {
            let to = out_dir.join(&name);
            std::fs::rename(self.dir.join(&name), &to).map_err(|e| RenderError::io(&to, e))?;
            moved.push(to);
        }
        self.committed = true;
        let _ = std::fs::remove_dir(&self.dir);
        Ok(moved)
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.dir);
            if let (Some(top), Some(out_dir)) = (&self.created, self.dir.parent()) {
                remove_created(out_dir, top);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_staging_dropped_uncommitted_removes_the_folders_it_created() {
        let base = std::env::temp_dir().join(format!("lathe-staging-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        std::fs::create_dir_all(&base).unwrap();
        let out = base.join("a/b/c");
        let s = Staging::create(&out).unwrap();
        assert!(s.dir().is_dir());
        drop(s);
        assert!(!base.join("a").exists());
        // A folder that was there before stays, empty or not.
        let s = Staging::create(&base).unwrap();
        drop(s);
        assert!(base.is_dir());
        std::fs::remove_dir_all(&base).unwrap();
    }
}
