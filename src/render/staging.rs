//! Deliverables are written into a hidden staging folder inside the output folder and moved
//! to their final names only when every one of them has been written and verified. An error,
//! a failed check or Ctrl-C therefore leaves the output folder as it was: no partial file, no
//! half set of masters, and an existing master replaced (with `--force`) only by a complete,
//! verified one. Renaming within one folder tree is atomic on the same filesystem.

use std::path::{Path, PathBuf};

use super::error::RenderError;

#[derive(Debug)]
pub struct Staging {
    dir: PathBuf,
    committed: bool,
}

impl Staging {
    /// Creates `<out_dir>/.lathe-staging-<pid>/` (and `out_dir` if needed).
    pub fn create(out_dir: &Path) -> Result<Self, RenderError> {
        std::fs::create_dir_all(out_dir).map_err(|e| RenderError::io(out_dir, e))?;
        let dir = out_dir.join(format!(".lathe-staging-{}", std::process::id()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| RenderError::io(&dir, e))?;
        }
        std::fs::create_dir(&dir).map_err(|e| RenderError::io(&dir, e))?;
        Ok(Self {
            dir,
            committed: false,
        })
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
        }
    }
}
