//! Issue 18 item 5: report.html's player, in a real browser. A render of tests/data's
//! francium excerpt writes report.html and its audio (report.audio.js); Chromium's headless
//! shell (Debian's `chromium-headless-shell`, which .ci/run installs) opens the page from
//! disk, as a client would, with `#selftest=<port>`, which makes the page decode both
//! previews, switch A (mix), B (master), A reading both gains after each switch, play for a
//! second and send what it saw to a listener on 127.0.0.1:<port>. Checked here: both sources
//! decode to the master's length, each switch opens the chosen source's gain at the figure the
//! page shows (as report.json's loudness gives it) and closes the other, the playhead moves,
//! and the browser logged nothing to its console.
//!
//! Headless audio: on a machine with no sound card (no /dev/snd, no PulseAudio) Chromium
//! says "Falling back to ALSA" and still runs the AudioContext: its state is "running" and its
//! clock advances in real time, so no flag and no ALSA null device are needed.
//!
//! Console: with `--enable-logging=stderr` Chromium writes every console message to stderr as
//! `[...:INFO:CONSOLE:<line>] "<message>", source: <url> (<line>)`, at INFO whatever the
//! message's level (console.error and uncaught exceptions alike), so any CONSOLE line counts
//! as an error: the page logs nothing when all is well.
#![cfg(all(feature = "render", target_os = "linux"))]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use lathe::dsp::ChainSettings;
use lathe::render::formats::parse_formats;
use lathe::render::report::{player, ReportDocument};
use lathe::render::{self, RenderJob};
use serde_json::Value;

/// Debian's package and the binary it installs.
const BROWSER_PACKAGE: &str = "chromium-headless-shell";
const BROWSER: &str = "/usr/bin/chromium-headless-shell";
/// How long the page may take to decode, switch, play and report.
const TIMEOUT: Duration = Duration::from_secs(90);

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lathe-player-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The browser, or a failure that says what to install: a missing browser must not pass.
fn browser() -> PathBuf {
    let path =
        std::env::var_os("LATHE_CHROMIUM").map_or_else(|| PathBuf::from(BROWSER), PathBuf::from);
    assert!(
        path.is_file(),
        "{} not found: install Debian's {BROWSER_PACKAGE} package (.ci/run does), or set \
         LATHE_CHROMIUM to a Chromium headless shell",
        path.display()
    );
    path
}

/// A path as a file:// URL (every byte but unreserved ones and `/` percent-encoded).
fn file_url(path: &Path) -> String {
    let mut url = String::from("file://");
    for b in path.to_str().unwrap().bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            url.push(b as char);
        } else {
            url.push_str(&format!("%{b:02X}"));
        }
    }
    url
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// What the browser reported, and everything it wrote to stderr.
struct Run {
    result: Value,
    stderr: String,
}

/// Opens `page` in the headless shell with `#selftest=<port>` and waits for its report.
fn run_selftest(page: &Path, scratch_dir: &Path) -> Run {
    let browser = browser();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut child = Command::new(&browser)
        .args([
            // The sandbox needs user namespaces, which containers (and CI runners as root)
            // often lack; the page is our own.
            "--no-sandbox",
            // The self-test plays without a click.
            "--autoplay-policy=no-user-gesture-required",
            // Console messages to stderr (see the top of this file).
            "--enable-logging=stderr",
            "--v=0",
            "--no-first-run",
        ])
        .arg(format!(
            "--user-data-dir={}",
            scratch_dir.join("profile").display()
        ))
        .arg(format!("{}#selftest={port}", file_url(page)))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        // Its own process group, so the browser's helpers (zygote, renderer, GPU process)
        // end with it.
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", browser.display()));
    let pid = child.id() as i32;
    let mut stderr_pipe = child.stderr.take().unwrap();
    let stderr_reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr_pipe.read_to_string(&mut text);
        text
    });
    let stop = |child: &mut std::process::Child| {
        // SAFETY: kill(2) on the process group this test created (its leader's id).
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
        let _ = child.wait();
    };

    let start = Instant::now();
    let mut result = None;
    while result.is_none() {
        if start.elapsed() > TIMEOUT {
            stop(&mut child);
            let stderr = stderr_reader.join().unwrap();
            panic!(
                "no result from the page within {} s; the browser's stderr:\n{stderr}",
                TIMEOUT.as_secs()
            );
        }
        if let Ok(Some(status)) = child.try_wait() {
            let stderr = stderr_reader.join().unwrap();
            panic!("the browser ended ({status}) before the page reported:\n{stderr}");
        }
        match listener.accept() {
            Ok((stream, _)) => result = read_result(stream),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => panic!("listener: {e}"),
        }
    }
    // Let any console message the last steps caused reach stderr before the browser goes.
    std::thread::sleep(Duration::from_millis(500));
    stop(&mut child);
    let stderr = stderr_reader.join().unwrap();
    eprintln!(
        "the page reported after {:.1} s",
        start.elapsed().as_secs_f64()
    );
    Run {
        result: result.unwrap(),
        stderr,
    }
}

/// The JSON of a `GET /result?<json>` request, answered with an empty response.
fn read_result(mut stream: TcpStream) -> Option<Value> {
    stream.set_nonblocking(false).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut request = Vec::new();
    let mut buf = [0u8; 8192];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        request.extend_from_slice(&buf[..n]);
    }
    let _ = stream.write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
    let line = String::from_utf8_lossy(&request)
        .lines()
        .next()?
        .to_string();
    let target = line.split(' ').nth(1)?;
    let query = target.strip_prefix("/result?")?;
    Some(serde_json::from_str(&percent_decode(query)).expect("the page's result is JSON"))
}

/// Console lines in the browser's stderr.
fn console_lines(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| l.contains(":CONSOLE")).collect()
}

/// One render of the francium excerpt (16 s, 48 kHz) to `formats` at -14 LUFS.
fn render_excerpt(dir: &Path, formats: &str) -> ReportDocument {
    let mix = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/francium_excerpt.flac");
    let mut job = RenderJob::new(mix, dir.to_path_buf(), ChainSettings::default());
    job.formats = parse_formats(formats).unwrap();
    job.force = true;
    render::render(&job, &mut |_, _| {}).expect("render");
    let json = std::fs::read_to_string(dir.join("francium_excerpt.report.json")).unwrap();
    ReportDocument::from_json(&json).unwrap()
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// The master's preview encoded from the streaming master (a 44.1 kHz / 16-bit WAV here).
#[test]
fn the_player_decodes_both_sources_switches_by_the_shown_gain_and_moves_the_playhead() {
    check_player("encoded", "wav44-16", &["francium_excerpt_44k1_16bit.wav"]);
}

/// The master's preview is the MP3 deliverable itself.
#[test]
fn the_player_plays_the_mp3_deliverable_as_the_master_when_there_is_one() {
    check_player(
        "mp3",
        "wav44-16,mp3",
        &[
            "francium_excerpt_320k.mp3",
            "francium_excerpt_44k1_16bit.wav",
        ],
    );
}

fn check_player(name: &str, formats: &str, masters: &[&str]) {
    let dir = scratch(name);
    let doc = render_excerpt(&dir, formats);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut expected: Vec<&str> = masters.to_vec();
    expected.extend([
        "francium_excerpt.report.audio.js",
        "francium_excerpt.report.html",
        "francium_excerpt.report.json",
    ]);
    expected.sort();
    assert_eq!(names, expected);
    let audio_bytes = std::fs::metadata(dir.join("francium_excerpt.report.audio.js"))
        .unwrap()
        .len();
    let master = doc.streaming_master().unwrap().measurement;
    // The source of the master's preview, whose loudness the level matching uses.
    let previewed = doc
        .deliverables
        .iter()
        .find(|d| d.format_id == "mp3")
        .map_or(master, |d| d.measurement);
    let duration = master.duration_s;
    eprintln!(
        "report.audio.js: {audio_bytes} bytes for two previews of {duration:.1} s ({:.0} kB/s)",
        audio_bytes as f64 / duration / 2.0 / 1000.0
    );
    let script = std::fs::read_to_string(dir.join("francium_excerpt.report.audio.js")).unwrap();
    let master_b64 = script
        .split("\"master\": \"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the master in report.audio.js");
    use base64::Engine as _;
    let master_mp3 = base64::engine::general_purpose::STANDARD
        .decode(master_b64)
        .unwrap();
    if let Some(mp3) = masters.iter().find(|m| m.ends_with(".mp3")) {
        assert!(
            master_mp3 == std::fs::read(dir.join(mp3)).unwrap(),
            "the master's preview is not {mp3}"
        );
    }
    // Two 320 kbps MP3s in base64: 40 kB/s each, 53 kB/s as text.
    assert!(
        (audio_bytes as f64 / duration / 2.0 - 53_333.0).abs() < 3_000.0,
        "{audio_bytes}"
    );

    // The gains the page must show and apply, from report.json's loudness figures: the
    // louder source (the master) turned down by the difference, to 0.1 dB.
    let (mix_lufs, master_lufs) = (
        doc.mix.measurement.integrated_lufs.unwrap(),
        previewed.integrated_lufs.unwrap(),
    );
    let level = player::LevelMatch::of(Some(mix_lufs), Some(master_lufs));
    let master_db = -((master_lufs - mix_lufs) * 10.0).round() / 10.0;
    assert_eq!((level.mix_db, level.master_db), (0.0, master_db));
    let html = std::fs::read_to_string(dir.join("francium_excerpt.report.html")).unwrap();
    let shown = format!("Level-matched: mix 0.0 dB, master {master_db:+.1} dB");
    assert!(html.contains(&shown), "the page does not show {shown:?}");
    eprintln!("the page shows {shown:?} (mix {mix_lufs:.2}, master {master_lufs:.2} LUFS)");

    let run = run_selftest(&dir.join("francium_excerpt.report.html"), &dir);
    let r = &run.result;
    eprintln!("the page's result: {r}");
    assert!(r.get("failure").is_none(), "the self-test failed: {r}");
    assert_eq!(r["errors"], Value::Array(vec![]), "errors on the page");
    let console = console_lines(&run.stderr);
    assert!(
        console.is_empty(),
        "console messages:\n{}",
        console.join("\n")
    );

    // Before the audio is ready (as without JavaScript) the note shows and the controls do
    // not; once it is, the other way round.
    let visible =
        |when: &str| ["note", "player", "playhead"].map(|what| r[when][what].as_bool().unwrap());
    assert_eq!(visible("initially"), [true, false, false], "{r}");
    assert_eq!(visible("ready"), [false, true, true], "{r}");

    // Both sources decode to the master's length.
    let decoded = r["decoded"].as_array().unwrap();
    assert_eq!(decoded.len(), 2);
    for d in decoded {
        let seconds = f(&d["duration_s"]);
        assert!(
            (seconds - duration).abs() < 0.1,
            "{d}: {seconds} s, not {duration} s"
        );
        assert_eq!(f(&d["channels"]), 2.0, "{d}");
        assert!(f(&d["sample_rate"]) >= 44_100.0, "{d}");
    }

    // A, B, A: the chosen source's gain at 10^(shown dB / 20), the other shut.
    let gain = |db: f64| 10f64.powf(db / 20.0);
    let switches = r["switches"].as_array().unwrap();
    let chosen: Vec<&str> = switches
        .iter()
        .map(|s| s["selected"].as_str().unwrap())
        .collect();
    assert_eq!(chosen, ["mix", "master", "mix"]);
    for s in switches {
        let (mix, master) = (f(&s["mix"]), f(&s["master"]));
        let (want_mix, want_master) = match s["selected"].as_str() {
            Some("mix") => (gain(level.mix_db), 0.0),
            _ => (0.0, gain(level.master_db)),
        };
        assert!(
            (mix - want_mix).abs() < 1e-4,
            "{s}: mix gain {mix}, not {want_mix}"
        );
        assert!(
            (master - want_master).abs() < 1e-4,
            "{s}: master gain {master}, not {want_master}"
        );
    }

    // The playhead moves with the audio clock: a second of playing moves it about a second
    // along the picture, and to the right.
    let (t0, t1) = (f(&r["before"]["t"]), f(&r["after"]["t"]));
    let (x0, x1) = (f(&r["before"]["x"]), f(&r["after"]["x"]));
    assert_eq!(r["state"], "running", "{r}");
    assert!(t1 - t0 > 0.2 && t1 - t0 < 2.0, "position {t0} s -> {t1} s");
    assert!(x1 > x0, "playhead at {x0} px, then {x1} px");
}

#[test]
fn without_its_audio_the_page_says_so_instead_of_playing() {
    let dir = scratch("alone");
    render_excerpt(&dir, "wav44-16");
    std::fs::remove_file(dir.join("francium_excerpt.report.audio.js")).unwrap();
    let run = run_selftest(&dir.join("francium_excerpt.report.html"), &dir);
    let failure = run.result["failure"].as_str().unwrap_or_default();
    assert!(
        failure.contains("report.audio.js, the audio beside this page, is missing"),
        "{}",
        run.result
    );
    // Nothing but the missing script may show in the console (the headless shell does not
    // log failed loads to stderr at all; the page's own note above is the evidence).
    let console = console_lines(&run.stderr);
    assert!(
        console
            .iter()
            .all(|l| l.contains("ERR_FILE_NOT_FOUND") && l.contains("report.audio.js")),
        "{}",
        console.join("\n")
    );
}
