//! What the command-line tests share: the music in tests/data and a scratch folder per test.
#![allow(dead_code)] // each test binary uses what it needs of these

use std::path::{Path, PathBuf};

/// A file of the repository's tests/data, as an absolute path (the tests run the binary in a
/// scratch folder).
pub fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/data")
        .join(name)
        .canonicalize()
        .unwrap()
}

/// A fresh, empty folder for one test of `suite`.
pub fn scratch(suite: &str, name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lathe-{suite}-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
