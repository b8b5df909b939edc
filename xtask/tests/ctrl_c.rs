//! Ctrl-C in the middle of a render, as an engineer would press it: the real binary, a real
//! SIGINT, sent once the render has made its staging folder (before it decodes: creating it is
//! the test that the output folder is writable). Nothing may be left behind, not even the
//! output folder the render created (issue 18).

mod common;

use common::data;
use std::process::{Command, Stdio};
use std::time::Duration;

use lathe::render::decode::decode_file;
use lathe::render::encode::{wav::write_wav, PcmOptions};
use lathe::render::metadata::Metadata;

#[test]
fn ctrl_c_while_writing_leaves_no_file_behind() {
    let dir = std::env::temp_dir().join(format!("lathe-ctrl-c-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    // A three-minute mix, so the render is still busy when the signal arrives.
    let excerpt = decode_file(&data("francium_excerpt.flac")).unwrap();
    let long: Vec<Vec<f32>> = excerpt.channels.iter().map(|c| c.repeat(12)).collect();
    let mix = dir.join("long_mix.wav");
    write_wav(
        &mix,
        &long,
        excerpt.sample_rate,
        PcmOptions::new(24),
        &Metadata::default(),
    )
    .unwrap();
    let mix_bytes = std::fs::read(&mix).unwrap();
    let out = dir.join("masters");

    let mut child = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args([
            "render",
            mix.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--formats",
            "wav44-16,wav48-24",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for the staging folder: from then on the render has something to clean up.
    // `.lathe-staging-<pid>-<n>`: the pid names the process, `n` the render within it.
    let staging = format!(".lathe-staging-{}-", child.id());
    let staged = || {
        std::fs::read_dir(&out).is_ok_and(|entries| {
            entries
                .filter_map(Result::ok)
                .any(|e| e.file_name().to_string_lossy().starts_with(&staging))
        })
    };
    let mut waited = 0;
    while !staged() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the render ended ({status}) before it wrote anything");
        }
        std::thread::sleep(Duration::from_millis(5));
        waited += 1;
        assert!(waited < 60_000, "no staging folder after five minutes");
    }
    let sent = Command::new("sh")
        .args(["-c", &format!("kill -INT {}", child.id())])
        .status()
        .unwrap();
    assert!(sent.success());
    let result = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    // 128 + SIGINT: stopped, not failed.
    assert_eq!(result.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("stopped"), "{stderr}");
    // The output folder did not exist before the render, so it must not exist after it.
    assert!(!out.exists(), "the output folder was left behind");
    // The mix itself is untouched.
    assert!(std::fs::read(&mix).unwrap() == mix_bytes, "the mix changed");
    let _ = std::fs::remove_dir_all(&dir);
}
