//! The installed `lathe` command as a user meets it (issue 18): the real binary, run in a
//! scratch folder. Every refusal comes before any work, is one line naming the option or
//! file and the allowed range, exits 2 for a usage error and 1 for a bad file, and leaves no
//! folder behind.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::data;

/// A fresh, empty folder for one test.
fn scratch(name: &str) -> PathBuf {
    common::scratch("cli", name)
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn run(bin: &str, cwd: &Path, args: &[&str]) -> Run {
    let out = Command::new(bin)
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap();
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn lathe(cwd: &Path, args: &[&str]) -> Run {
    run(env!("CARGO_BIN_EXE_lathe"), cwd, args)
}

/// A refusal: the exit code, one line on stderr holding every `needle`, nothing on stdout,
/// and nothing new in `cwd` (the render's default output folder is `masters/` there).
fn refused(cwd: &Path, args: &[&str], code: i32, needles: &[&str]) -> String {
    let r = lathe(cwd, args);
    assert_eq!(r.code, Some(code), "{args:?}: {}", r.stderr);
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{args:?}: not one line:\n{}", r.stderr);
    assert!(lines[0].starts_with("error: "), "{}", lines[0]);
    for n in needles {
        assert!(lines[0].contains(n), "{args:?}: no `{n}` in: {}", lines[0]);
    }
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    let left: Vec<_> = std::fs::read_dir(cwd)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "{args:?} left behind: {left:?}");
    lines[0].to_string()
}

#[test]
fn a_target_outside_the_plugins_range_is_a_usage_error() {
    let dir = scratch("target");
    let mix = data("vibe-ace_excerpt.flac");
    let mix = mix.to_str().unwrap();
    let line = refused(
        &dir,
        &["render", mix, "--target", "14"],
        2,
        &[
            "--target 14",
            "-36 to -5 LUFS",
            "did you mean --target -14?",
        ],
    );
    eprintln!("{line}");
    let line = refused(
        &dir,
        &["render", mix, "--target", "0"],
        2,
        &["--target 0", "-36 to -5 LUFS"],
    );
    assert!(!line.contains("did you mean"), "{line}");
    refused(
        &dir,
        &["render", mix, "--target", "-40"],
        2,
        &["-36 to -5 LUFS"],
    );
    refused(
        &dir,
        &["render", mix, "--ceiling", "3"],
        2,
        &["--ceiling 3", "-6 to 0 dBTP"],
    );
    refused(
        &dir,
        &["render", mix, "--match-amount", "150", "--reference", mix],
        2,
        &["--match-amount", "0 to 100"],
    );
    refused(
        &dir,
        &["render", mix, "--fade-in", "-5"],
        2,
        &["--fade-in -5"],
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_unknown_option_names_the_nearest_known_one() {
    let dir = scratch("unknown");
    let mix = data("vibe-ace_excerpt.flac");
    refused(
        &dir,
        &["render", mix.to_str().unwrap(), "--targt", "-14"],
        2,
        &["unknown option --targt", "did you mean --target?"],
    );
    let line = refused(
        &dir,
        &["render", "--xyzzy-plugh-frobnicate"],
        2,
        &["unknown option"],
    );
    assert!(!line.contains("did you mean"), "{line}");
    refused(
        &dir,
        &["rendr"],
        2,
        &["unknown command rendr", "did you mean render?"],
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn contradicting_options_are_refused() {
    let dir = scratch("conflict");
    let mix = data("vibe-ace_excerpt.flac");
    let reference = data("by-product_excerpt.flac");
    refused(
        &dir,
        &[
            "render",
            mix.to_str().unwrap(),
            "--as-set",
            "--target",
            "reference",
            "--reference",
            reference.to_str().unwrap(),
        ],
        2,
        &["--as-set", "--target reference"],
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_missing_settings_file_is_named_once_with_its_cause_once() {
    let dir = scratch("settings");
    let mix = data("vibe-ace_excerpt.flac");
    let line = refused(
        &dir,
        &["render", mix.to_str().unwrap(), "--settings", "nope.toml"],
        1,
        &["nope.toml", "No such file or directory"],
    );
    assert_eq!(line.matches("No such file").count(), 1, "{line}");
    assert_eq!(line.matches("nope.toml").count(), 1, "{line}");
    // A settings file with a typo: its place and the field on one line, still exit 1.
    std::fs::write(dir.join("typo.toml"), "[limiter]\nceilin_dbtp = -1\n").unwrap();
    let r = lathe(
        &dir,
        &["render", mix.to_str().unwrap(), "--settings", "typo.toml"],
    );
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr.contains(
            "typo.toml: not a valid settings file: line 2, column 1: unknown field `ceilin_dbtp`"
        ),
        "{}",
        r.stderr
    );
    std::fs::remove_file(dir.join("typo.toml")).unwrap();
    // A missing mix likewise.
    let line = refused(&dir, &["render", "missing.wav"], 1, &["missing.wav"]);
    assert_eq!(line.matches("No such file").count(), 1, "{line}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn fades_longer_than_the_mix_are_refused_naming_the_mix() {
    let dir = scratch("fades");
    // vibe-ace_excerpt.flac lasts 6 s.
    let mix = data("vibe-ace_excerpt.flac");
    refused(
        &dir,
        &[
            "render",
            mix.to_str().unwrap(),
            "--fade-in",
            "2000",
            "--fade-out",
            "5",
        ],
        2,
        &[
            "--fade-in 2000 ms",
            "--fade-out 5 s",
            "vibe-ace_excerpt.flac",
            "0 to 6.00 s",
        ],
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_output_folder_that_cannot_be_written_is_refused_before_the_work() {
    let dir = scratch("readonly");
    let mix = data("vibe-ace_excerpt.flac");
    // A folder under a file cannot be made, whoever runs the test (root included).
    std::fs::write(dir.join("file"), b"").unwrap();
    let r = lathe(
        &dir,
        &["render", mix.to_str().unwrap(), "--out", "file/masters"],
    );
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("file/masters: the output folder is not writable"),
        "{}",
        r.stderr
    );

    // A read-only folder. Root writes into one anyway, so as root (CI's containers) the
    // command runs as `nobody` through setpriv(1), when it is there.
    let ro = dir.join("ro");
    std::fs::create_dir(&ro).unwrap();
    set_mode(&ro, 0o555);
    set_mode(&dir, 0o777);
    let as_root = std::fs::write(ro.join("probe"), b"").is_ok();
    let _ = std::fs::remove_file(ro.join("probe"));
    let setpriv = ["/usr/bin/setpriv", "/bin/setpriv"]
        .into_iter()
        .find(|p| Path::new(p).exists());
    let ro_run = |out: &str| -> Option<Run> {
        let args = ["render", mix.to_str().unwrap(), "--out", out];
        match (as_root, setpriv) {
            (false, _) => Some(lathe(&dir, &args)),
            (true, Some(setpriv)) => {
                let mut all = vec![
                    "--reuid=65534",
                    "--regid=65534",
                    "--clear-groups",
                    env!("CARGO_BIN_EXE_lathe"),
                ];
                all.extend(args);
                Some(run(setpriv, &dir, &all))
            }
            (true, None) => None,
        }
    };
    for out in ["ro", "ro/new/deeper"] {
        let Some(r) = ro_run(out) else {
            eprintln!("root without setpriv: the read-only folder half is skipped");
            break;
        };
        assert_eq!(r.code, Some(1), "{}", r.stderr);
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
        assert!(
            r.stderr
                .contains(&format!("{out}: the output folder is not writable")),
            "{}",
            r.stderr
        );
        assert!(!r.stderr.contains(".lathe-staging"), "{}", r.stderr);
        assert_eq!(std::fs::read_dir(&ro).unwrap().count(), 0, "left in ro/");
    }
    set_mode(&ro, 0o755);
    let _ = std::fs::remove_dir_all(&dir);
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn lathe_and_cargo_xtask_run_the_same_code() {
    let dir = scratch("same");
    let mix = data("vibe-ace_excerpt.flac");
    let args = ["render", mix.to_str().unwrap(), "--target", "14"];
    let a = lathe(&dir, &args);
    let b = run(env!("CARGO_BIN_EXE_xtask"), &dir, &args);
    assert_eq!((a.code, &a.stderr), (b.code, &b.stderr));
    // The help names the command it was called by.
    let help = lathe(&dir, &["render", "--help"]);
    assert_eq!(help.code, Some(0));
    assert!(
        help.stdout.contains("Usage: lathe render <mix>"),
        "{}",
        help.stdout
    );
    assert!(!help.stdout.contains("cargo xtask"), "{}", help.stdout);
    let top = lathe(&dir, &["--help"]);
    assert!(top.stdout.contains("lathe render") && top.stdout.contains("lathe ddp-info"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_render_through_lathe_writes_the_masters() {
    let dir = scratch("render");
    let mix = data("vibe-ace_excerpt.flac");
    let r = lathe(
        &dir,
        &[
            "render",
            mix.to_str().unwrap(),
            "--formats",
            "wav44-16",
            "--fade-out",
            "1",
        ],
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(
        dir.join("masters/vibe-ace_excerpt/vibe-ace_excerpt_44k1_16bit.wav")
            .is_file(),
        "{}",
        r.stdout
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_title_names_the_folder_and_the_files_and_the_summary_says_which_goes_where() {
    let dir = scratch("title");
    let mix = data("vibe-ace_excerpt.flac");
    let r = lathe(
        &dir,
        &[
            "render",
            mix.to_str().unwrap(),
            "--formats",
            "wav44-16,wav48-24",
            "--title",
            "Night Drive",
            "--target",
            "-9",
        ],
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let out = dir.join("masters/Night Drive");
    for name in [
        "Night Drive_44k1_16bit.wav",
        "Night Drive_48k_24bit.wav",
        "Night Drive.report.html",
        "Night Drive.report.json",
    ] {
        assert!(out.join(name).is_file(), "{name}: {}", r.stdout);
    }
    // The terminal's which-file-where table, as the report's: one line per destination.
    let line = |start: &str| {
        r.stdout
            .lines()
            .find(|l| l.trim_start_matches("send").trim_start().starts_with(start))
            .unwrap_or_else(|| panic!("no `{start}` line in:\n{}", r.stdout))
            .to_string()
    };
    assert!(line("Streaming").ends_with("Night Drive_44k1_16bit.wav"));
    assert!(line("Bandcamp").ends_with("Night Drive_48k_24bit.wav"));
    assert!(line("Video").ends_with("Night Drive_48k_24bit.wav"));
    assert!(line("CD plant").contains("--album"));
    assert!(line("Preview").contains("add mp3 to --formats"));
    // A -9 LUFS master under the default -1 dBTP ceiling: Spotify's advice for loud masters.
    assert!(
        r.stdout
            .lines()
            .any(|l| l.starts_with("NOTE") && l.contains("-2 dBTP")),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("Night Drive.report.html"));
    let _ = std::fs::remove_dir_all(&dir);
}
