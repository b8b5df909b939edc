//! `lathe batch` as a label's engineer runs it (issue 20): the real binary, real music, a
//! manifest in a scratch folder. A bad manifest is refused before any work with every bad
//! line named; a good one masters every track on target, writes the batch report, and a
//! rerun skips what is done and redoes only what changed.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use common::data;

fn scratch(name: &str) -> PathBuf {
    common::scratch("batch", name)
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn lathe(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_lathe"))
        .args(args)
        .current_dir(cwd)
        // Not an array task unless the test says so, even under a CI that is one.
        .env_remove("SLURM_ARRAY_TASK_ID")
        .env_remove("JOB_COMPLETION_INDEX")
        .env_remove("AWS_BATCH_JOB_ARRAY_INDEX")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn names(dir: &Path) -> Vec<String> {
    let mut n: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    n.sort();
    n
}

#[test]
fn a_bad_manifest_is_refused_naming_every_bad_line_and_nothing_is_written() {
    let dir = scratch("bad");
    let francium = data("francium_excerpt.flac");
    let vibe = data("vibe-ace_excerpt.flac");
    let manifest = format!(
        "mix,out,target,formats\n\
         {},francium,-14,wav44-16\n\
         {},vibe,14,wav44-16\n\
         missing.flac,missing,-14,wav44-16\n\
         {},byproduct,-14,wav44-17\n",
        francium.display(),
        vibe.display(),
        francium.display(),
    );
    std::fs::write(dir.join("album.csv"), manifest).unwrap();
    let r = lathe(&dir, &["batch", "album.csv", "--jobs", "2"], &[]);
    println!("{}", r.stderr);
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert!(r.stderr.contains("3 bad row(s)"), "{}", r.stderr);
    assert!(
        r.stderr.contains(
            "album.csv:line 3: --target 14 is outside -36 to -5 LUFS; did you mean --target -14?"
        ),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("album.csv:line 4: mix: "), "{}", r.stderr);
    assert!(
        r.stderr.contains("missing.flac: no such file"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("album.csv:line 5: --formats"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("line 2"), "{}", r.stderr);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    assert_eq!(names(&dir), ["album.csv"], "something was written");

    // A header with an unknown column, with the nearest known one.
    std::fs::write(dir.join("album.csv"), "mix,out,trget\n").unwrap();
    let r = lathe(&dir, &["render", "--batch", "album.csv"], &[]);
    println!("{}", r.stderr);
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("album.csv:line 1: unknown column `trget`; did you mean target?"),
        "{}",
        r.stderr
    );
    assert_eq!(names(&dir), ["album.csv"]);
    let _ = std::fs::remove_dir_all(&dir);
}

fn mtime(path: &Path) -> SystemTime {
    std::fs::metadata(path).unwrap().modified().unwrap()
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn manifest(vibe_target: &str) -> String {
    format!(
        "mix,out,target,platform,formats,title\n\
         {},masters/francium,-14,,wav44-16,Francium\n\
         {},masters/vibe,{vibe_target},,wav44-16,\n\
         {},masters/by-product,,apple,wav44-16,By-Product\n",
        data("francium_excerpt.flac").display(),
        data("vibe-ace_excerpt.flac").display(),
        data("by-product_excerpt.flac").display(),
    )
}

#[test]
fn a_batch_masters_every_track_and_a_rerun_redoes_only_what_changed() {
    let dir = scratch("run");
    std::fs::write(dir.join("album.csv"), manifest("-14")).unwrap();
    let r = lathe(&dir, &["batch", "album.csv", "--jobs", "2"], &[]);
    println!("{}\n{}", r.stdout, r.stderr);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(
        r.stdout.contains("3 tracks: 3 done, 0 skipped, 0 failed"),
        "{}",
        r.stdout
    );

    // Every track on its target, read from its own report.
    let tracks = [
        ("masters/francium", "Francium", -14.0),
        ("masters/vibe", "vibe-ace_excerpt", -14.0),
        ("masters/by-product", "By-Product", -16.0),
    ];
    for (out, name, target) in tracks {
        let report = json(&dir.join(out).join(format!("{name}.report.json")));
        let lufs = report["deliverables"][0]["measurement"]["integrated_lufs"]
            .as_f64()
            .unwrap();
        assert!((lufs - target).abs() <= 0.1, "{name}: {lufs} LUFS");
        assert!(dir.join(out).join(format!("{name}.done.json")).is_file());
    }
    let report = json(&dir.join("album.report.json"));
    let rows = report["tracks"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    for (row, (_, _, target)) in rows.iter().zip(tracks) {
        assert_eq!(row["status"], "done");
        let lufs = row["integrated_lufs"].as_f64().unwrap();
        assert!((lufs - target).abs() <= 0.1, "{row}");
        assert!(row["true_peak_dbtp"].as_f64().unwrap() <= -1.0, "{row}");
    }
    let csv = std::fs::read_to_string(dir.join("album.report.csv")).unwrap();
    assert_eq!(csv.lines().count(), 4, "{csv}");
    assert!(csv
        .starts_with("line,mix,out,name,status,reason,integrated_lufs,true_peak_dbtp,warnings\n"));

    let masters: Vec<PathBuf> = tracks
        .iter()
        .map(|(out, name, _)| dir.join(out).join(format!("{name}_44k1_16bit.wav")))
        .collect();
    let before: Vec<SystemTime> = masters.iter().map(|m| mtime(m)).collect();

    // A rerun: nothing to do, nothing touched.
    let r = lathe(&dir, &["batch", "album.csv"], &[]);
    println!("{}\n{}", r.stdout, r.stderr);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(
        r.stdout.contains("3 tracks: 0 done, 3 skipped, 0 failed"),
        "{}",
        r.stdout
    );
    let after: Vec<SystemTime> = masters.iter().map(|m| mtime(m)).collect();
    assert_eq!(before, after, "a skipped track's masters were touched");

    // Shards of an array job: by flag and from Slurm's environment, each its own rows.
    let r = lathe(&dir, &["batch", "album.csv", "--shard", "1/2"], &[]);
    assert!(
        r.stdout
            .contains("shard    1/2: 1 of the manifest's 3 tracks"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("line 3"), "{}", r.stdout);
    let slurm = [
        ("SLURM_ARRAY_TASK_ID", "0"),
        ("SLURM_ARRAY_TASK_COUNT", "2"),
    ];
    let r = lathe(&dir, &["batch", "album.csv"], &slurm);
    assert!(
        r.stdout
            .contains("shard    0/2: 2 of the manifest's 3 tracks"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("line 2") && r.stdout.contains("line 4"),
        "{}",
        r.stdout
    );
    assert!(dir.join("album.shard-0-of-2.report.csv").is_file());

    // One row's target changes: that track alone is mastered again.
    std::fs::write(dir.join("album.csv"), manifest("-16")).unwrap();
    let r = lathe(&dir, &["batch", "album.csv", "--jobs", "2"], &[]);
    println!("{}\n{}", r.stdout, r.stderr);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(
        r.stdout.contains("3 tracks: 1 done, 2 skipped, 0 failed"),
        "{}",
        r.stdout
    );
    let redone: Vec<SystemTime> = masters.iter().map(|m| mtime(m)).collect();
    assert_eq!(redone[0], before[0]);
    assert_ne!(redone[1], before[1], "the changed track was not redone");
    assert_eq!(redone[2], before[2]);
    let report = json(&dir.join("masters/vibe/vibe-ace_excerpt.report.json"));
    let lufs = report["deliverables"][0]["measurement"]["integrated_lufs"]
        .as_f64()
        .unwrap();
    assert!((lufs + 16.0).abs() <= 0.1, "{lufs}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn ctrl_c_stops_every_track_and_keeps_the_finished_ones() {
    use lathe::render::decode::decode_file;
    use lathe::render::encode::{wav::write_wav, PcmOptions};
    use lathe::render::metadata::Metadata;
    use std::process::Stdio;
    use std::time::Duration;

    let dir = scratch("ctrl-c");
    // A three-minute mix, so its render is still busy when the signal arrives.
    let excerpt = decode_file(&data("francium_excerpt.flac")).unwrap();
    let long: Vec<Vec<f32>> = excerpt.channels.iter().map(|c| c.repeat(12)).collect();
    let mix = dir.join("long_mix.wav");
    let pcm = PcmOptions::new(24);
    write_wav(&mix, &long, excerpt.sample_rate, pcm, &Metadata::default()).unwrap();
    let manifest = format!(
        "mix,out,formats\n{},short,wav44-16\nlong_mix.wav,long,wav44-16\nlong_mix.wav,later,wav44-16\n",
        data("vibe-ace_excerpt.flac").display()
    );
    std::fs::write(dir.join("album.csv"), manifest).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_lathe"))
        .args(["batch", "album.csv", "--jobs", "1"])
        .current_dir(&dir)
        .env_remove("SLURM_ARRAY_TASK_ID")
        .env_remove("JOB_COMPLETION_INDEX")
        .env_remove("AWS_BATCH_JOB_ARRAY_INDEX")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The long track has begun once its staging folder is there.
    let staging = format!(".lathe-staging-{}-", child.id());
    let staged = || {
        std::fs::read_dir(dir.join("long")).is_ok_and(|entries| {
            entries
                .filter_map(Result::ok)
                .any(|e| e.file_name().to_string_lossy().starts_with(&staging))
        })
    };
    let mut waited = 0;
    while !staged() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the batch ended ({status}) before the long track began");
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
    let stdout = String::from_utf8_lossy(&result.stdout);
    let stderr = String::from_utf8_lossy(&result.stderr);
    println!("{stdout}\n{stderr}");
    assert_eq!(result.status.code(), Some(130), "{stderr}");
    assert!(
        stdout.contains("3 tracks: 1 done, 0 skipped, 0 failed, 2 stopped"),
        "{stdout}"
    );
    // The finished track keeps its masters and record; the stopped ones leave nothing.
    assert!(dir.join("short/vibe-ace_excerpt.done.json").is_file());
    assert!(dir.join("short/vibe-ace_excerpt_44k1_16bit.wav").is_file());
    assert!(
        !dir.join("long").exists(),
        "the stopped track left its folder"
    );
    assert!(!dir.join("later").exists(), "a track began after Ctrl-C");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The first block of `lang` after `heading` in docs/batch.md.
fn doc_block(heading: &str, lang: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/batch.md");
    let text = std::fs::read_to_string(path).unwrap();
    let from = text.find(heading).unwrap_or_else(|| panic!("no {heading}"));
    let open = format!("```{lang}\n");
    let start = from + text[from..].find(&open).expect("a block") + open.len();
    let end = start + text[start..].find("```").unwrap();
    text[start..end].to_string()
}

#[test]
fn the_documented_slurm_script_runs_its_array_task() {
    let dir = scratch("slurm");
    let script = doc_block("### Slurm", "sh");
    assert!(script.contains("#SBATCH --array=0-3"), "{script}");
    std::fs::write(dir.join("master.sbatch"), &script).unwrap();
    let mut manifest = String::from("mix,out,formats\n");
    let names = ["francium", "vibe-ace", "by-product"];
    for (i, name) in names.iter().chain(&names).enumerate() {
        let mix = data(&format!("{name}_excerpt.flac"));
        manifest.push_str(&format!("{},t{i},wav44-16\n", mix.display()));
    }
    std::fs::write(dir.join("manifest.csv"), manifest).unwrap();
    // As Slurm runs task 1 of --array=0-3: `lathe` on PATH, the array's variables set.
    let bin = Path::new(env!("CARGO_BIN_EXE_lathe")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("sh")
        .arg("master.sbatch")
        .current_dir(&dir)
        .env("PATH", path)
        .env("SLURM_ARRAY_TASK_ID", "1")
        .env("SLURM_ARRAY_TASK_MIN", "0")
        .env("SLURM_ARRAY_TASK_COUNT", "4")
        .env("SLURM_CPUS_PER_TASK", "2")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success());
    // Task 1 of 4 takes tracks 1 and 5 (0-based): manifest lines 3 and 7, t1 and t5.
    assert!(
        stdout.contains("shard    1/4: 2 of the manifest's 6 tracks"),
        "{stdout}"
    );
    assert!(stdout.contains("2 tracks: 2 done"), "{stdout}");
    assert!(dir.join("t1").is_dir() && dir.join("t5").is_dir());
    for other in ["t0", "t2", "t3", "t4"] {
        assert!(!dir.join(other).exists(), "{other} is another task's");
    }
    assert!(dir.join("manifest.shard-1-of-4.report.json").is_file());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_documented_kubernetes_job_gives_every_pod_the_count() {
    let yaml = doc_block("### Kubernetes", "yaml");
    assert!(yaml.contains("completionMode: Indexed"), "{yaml}");
    let completions = yaml
        .lines()
        .find_map(|l| l.trim().strip_prefix("completions: "))
        .expect("completions");
    let count = yaml
        .split("name: LATHE_SHARD_COUNT")
        .nth(1)
        .and_then(|rest| rest.lines().nth(1))
        .and_then(|l| l.trim().strip_prefix("value: "))
        .expect("LATHE_SHARD_COUNT's value");
    assert!(
        count.starts_with(&format!("\"{completions}\"")),
        "{count} vs {completions}"
    );
    assert!(
        yaml.contains("[\"lathe\", \"batch\", \"manifest.csv\""),
        "{yaml}"
    );
}
