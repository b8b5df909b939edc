//! The editor under a real X server: the standalone build plays tests/data/francium_excerpt.flac
//! through the plugin with the editor open, under Xvfb with Mesa's software OpenGL, and
//! ImageMagick takes screenshots (saved to target/screenshots/ as artefacts).
//!
//! Checks, each by driving input with xdotool rather than assuming it works:
//! - the meters move while audio plays (pixels in the loudness meters and the spectrum change
//!   between two shots three seconds apart);
//! - dragging the EQ's bell 2 handle sets that bell's frequency and gain (read back through
//!   the Export button, which writes the settings file);
//! - Import sets the parameters from a settings file (read back by exporting again);
//! - a reference typed into the top bar and loaded sets a match curve (read back through
//!   Export), and Clear flattens it;
//! - the Expert button switches to the expert view.
//!
//! Pixel positions are those of the editor's default size (1120 × 760 points) at a scale
//! factor of 1, which Xvfb reports. Needs Xvfb, xdotool and ImageMagick (.ci/run installs
//! them); runs with the `standalone` and `render` features (`cargo xtask test` enables both).
#![cfg(all(feature = "standalone", feature = "render"))]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use lathe::dsp::ChainSettings;

/// Stops the child processes when the test ends, passing or failing: SIGTERM first, so Xvfb
/// removes its lock file, then SIGKILL for anything still running.
struct Children(Vec<Child>);

impl Drop for Children {
    fn drop(&mut self) {
        for child in self.0.iter_mut().rev() {
            let _ = Command::new("kill").arg(child.id().to_string()).status();
            let stopped = wait_for(Duration::from_secs(5), || {
                child.try_wait().ok().flatten().map(|_| ())
            });
            if stopped.is_none() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

fn tool(name: &str) {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        found,
        "`{name}` is not installed (Debian: xvfb, xdotool, imagemagick; see .ci/run)"
    );
}

/// A display number with no X server on it.
fn free_display() -> u32 {
    (90..400)
        .find(|n| {
            !Path::new(&format!("/tmp/.X{n}-lock")).exists()
                && !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
        })
        .expect("a free X display number")
}

/// Polls `check` every 100 ms until it returns something or `limit` passes.
fn wait_for<T>(limit: Duration, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let start = Instant::now();
    loop {
        if let Some(found) = check() {
            return Some(found);
        }
        if start.elapsed() > limit {
            return None;
        }
        sleep(Duration::from_millis(100));
    }
}

struct Screen {
    display: String,
    window: String,
    dir: PathBuf,
}

impl Screen {
    fn xdotool(&self, args: &[&str]) {
        let status = Command::new("xdotool")
            .env("DISPLAY", &self.display)
            .args(args)
            .status()
            .expect("xdotool runs");
        assert!(status.success(), "xdotool {args:?}");
        // Give the editor a repaint poll (1/64 s) or two to see the event.
        sleep(Duration::from_millis(150));
    }

    fn move_to(&self, x: i32, y: i32) {
        let (x, y) = (x.to_string(), y.to_string());
        self.xdotool(&["mousemove", "--window", &self.window, &x, &y]);
    }

    fn click(&self, x: i32, y: i32) {
        self.move_to(x, y);
        self.xdotool(&["click", "1"]);
    }

    fn drag(&self, from: (i32, i32), to: (i32, i32)) {
        self.move_to(from.0, from.1);
        self.xdotool(&["mousedown", "1"]);
        self.move_to((from.0 + to.0) / 2, (from.1 + to.1) / 2);
        self.move_to(to.0, to.1);
        self.xdotool(&["mouseup", "1"]);
    }

    /// Saves a screenshot as `name`.png and returns its pixels (RGB, row-major) and width.
    fn shot(&self, name: &str) -> (Vec<u8>, usize) {
        self.try_shot(name)
            .unwrap_or_else(|| panic!("screenshot {name} of window {}", self.window))
    }

    /// [`Self::shot`], or `None` while the window cannot be read yet (not mapped).
    fn try_shot(&self, name: &str) -> Option<(Vec<u8>, usize)> {
        let png = self.dir.join(format!("{name}.png"));
        let status = Command::new("import")
            .env("DISPLAY", &self.display)
            .args(["-window", &self.window])
            .arg(&png)
            .stderr(Stdio::null())
            .status()
            .expect("ImageMagick import runs");
        if !status.success() {
            return None;
        }
        let size = Command::new("identify")
            .args(["-format", "%w"])
            .arg(&png)
            .output()
            .expect("identify runs");
        let width: usize = String::from_utf8_lossy(&size.stdout).trim().parse().ok()?;
        let raw = Command::new("convert")
            .arg(&png)
            .args(["-depth", "8", "rgb:-"])
            .output()
            .expect("convert runs");
        raw.status.success().then_some((raw.stdout, width))
    }
}

/// Pixels inside `(x0, y0)..(x1, y1)` where any channel differs by more than 24 levels.
fn changed_pixels(a: &(Vec<u8>, usize), b: &(Vec<u8>, usize), region: [usize; 4]) -> usize {
    let [x0, y0, x1, y1] = region;
    let width = a.1;
    assert_eq!(width, b.1, "same window size");
    let mut changed = 0;
    for y in y0..y1 {
        for x in x0..x1 {
            let i = (y * width + x) * 3;
            let differs = (0..3).any(|c| a.0[i + c].abs_diff(b.0[i + c]) > 24);
            changed += usize::from(differs);
        }
    }
    changed
}

/// Distinct colours inside a region (a blank or black window has one or two).
fn colours(a: &(Vec<u8>, usize), region: [usize; 4]) -> usize {
    let [x0, y0, x1, y1] = region;
    let mut seen = std::collections::HashSet::new();
    for y in y0..y1 {
        for x in x0..x1 {
            let i = (y * a.1 + x) * 3;
            seen.insert([a.0[i], a.0[i + 1], a.0[i + 2]]);
        }
    }
    seen.len()
}

fn export(screen: &Screen, settings_file: &Path) -> ChainSettings {
    let _ = std::fs::remove_file(settings_file);
    // The Export button of the settings row (easy view).
    screen.click(420, 739);
    let text = wait_for(Duration::from_secs(10), || {
        std::fs::read_to_string(settings_file).ok()
    })
    .expect("Export wrote the settings file");
    ChainSettings::from_toml(&text).expect("the exported file is valid settings")
}

/// Equal switches, and every continuous control within 1e-5 relative: a value set through
/// the host travels normalised to 0..1 and back, which can move a skewed parameter by an ulp.
fn assert_same_settings(got: &ChainSettings, want: &ChainSettings) {
    for ((name, a, _), (_, b, _)) in got.controls().into_iter().zip(want.controls()) {
        assert!(
            (a - b).abs() <= 1e-5 * b.abs().max(1.0),
            "{name}: got {a}, want {b}"
        );
    }
    let switches = |s: &ChainSettings| {
        let mb = &s.multiband;
        (
            s.eq.hp_mode,
            mb.enabled,
            mb.mode,
            mb.detection,
            mb.bands.map(|b| (b.bypass, b.solo)),
            s.stereo.mono_below,
            s.limiter.auto_release,
            s.monitor,
            s.target.preset,
            s.target.learn,
        )
    };
    assert_eq!(switches(got), switches(want));
}

// Regions of the easy view, in window pixels.
const LOUDNESS_BARS: [usize; 4] = [130, 170, 285, 335];
const EQ_PLOT: [usize; 4] = [575, 68, 1100, 304];
const BODY: [usize; 4] = [10, 40, 1110, 730];

#[test]
fn editor_meters_move_and_controls_respond_under_xvfb() {
    for name in ["Xvfb", "xdotool", "import", "convert", "identify"] {
        tool(name);
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("target/screenshots");
    let home = dir.join("home");
    std::fs::create_dir_all(&home).unwrap();
    let settings_file = home.join("lathe-settings.toml");

    let number = free_display();
    let display = format!(":{number}");
    let mut children = Children(Vec::new());
    children.0.push(
        Command::new("Xvfb")
            .args([&display, "-screen", "0", "1280x900x24", "-nolisten", "tcp"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb starts"),
    );
    // Ready when a client can connect and ask for the screen size.
    wait_for(Duration::from_secs(20), || {
        Command::new("xdotool")
            .env("DISPLAY", &display)
            .arg("getdisplaygeometry")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .ok()?
            .success()
            .then_some(())
    })
    .expect("Xvfb accepts connections");

    let log = std::fs::File::create(dir.join("standalone.log")).unwrap();
    children.0.push(
        Command::new(env!("CARGO_BIN_EXE_lathe_standalone"))
            .args(["--backend", "dummy", "--sample-rate", "48000"])
            .env("DISPLAY", &display)
            .env("LIBGL_ALWAYS_SOFTWARE", "1")
            .env("HOME", &home)
            .env("LATHE_PLAY", root.join("tests/data/francium_excerpt.flac"))
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("the standalone starts"),
    );
    let window = wait_for(Duration::from_secs(60), || {
        let out = Command::new("xdotool")
            .env("DISPLAY", &display)
            .args(["search", "--name", "^Lathe$"])
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&out.stdout);
        text.lines().next().map(str::to_string)
    })
    .expect("the Lathe window appeared (see target/screenshots/standalone.log)");
    let screen = Screen {
        display,
        window,
        dir: dir.clone(),
    };

    // The first frame can take a while on a software rasteriser: wait until the editor has
    // drawn, then let the short-term loudness (3 s) fill, then two shots three seconds apart.
    wait_for(Duration::from_secs(60), || {
        let shot = screen.try_shot("easy_0")?;
        (colours(&shot, BODY) > 50).then_some(())
    })
    .expect("the editor drew its panels");
    sleep(Duration::from_secs(4));
    let first = screen.shot("easy_1");
    sleep(Duration::from_secs(3));
    let second = screen.shot("easy_2");
    let meters = changed_pixels(&first, &second, LOUDNESS_BARS);
    let spectrum = changed_pixels(&first, &second, EQ_PLOT);
    println!("changed pixels: loudness meters {meters}, spectrum {spectrum}");
    assert!(
        meters >= 20,
        "loudness meters moved: {meters} pixels changed"
    );
    assert!(spectrum >= 200, "spectrum moved: {spectrum} pixels changed");

    // Drag bell 2 (1 kHz, 0 dB, at x 873, y 186) up 50 px and right 12 px: the plot is
    // 240 px for 36 dB, so about +7.5 dB, and a little above 1 kHz.
    screen.drag((873, 186), (885, 136));
    let dragged = export(&screen, &settings_file);
    let bell = dragged.eq.bells[1];
    println!(
        "after the drag: bell 2 {} Hz, {} dB",
        bell.freq_hz, bell.gain_db
    );
    assert!(
        (5.0..=10.0).contains(&bell.gain_db),
        "bell 2 gain {}",
        bell.gain_db
    );
    assert!(
        (1_000.0..=1_400.0).contains(&bell.freq_hz),
        "bell 2 freq {}",
        bell.freq_hz
    );
    // Everything else stayed where it was.
    let mut expected = ChainSettings::default();
    expected.eq.bells[1] = bell;
    assert_eq!(dragged, expected);
    screen.move_to(1000, 650);
    sleep(Duration::from_secs(2));
    screen.shot("easy_playing");

    // Import: a file with another ceiling and width, then read back by exporting again.
    let mut wanted = ChainSettings::default();
    wanted.limiter.ceiling_dbtp = -2.0;
    wanted.stereo.width_pct = 80.0;
    std::fs::write(&settings_file, toml::to_string_pretty(&wanted).unwrap()).unwrap();
    screen.click(483, 739);
    let imported = export(&screen, &settings_file);
    assert_same_settings(&imported, &wanted);

    // Reference matching: type a reference into the top bar's field and Load it. The file is
    // decoded and fitted on the loader's thread against the input heard so far (the excerpt
    // has been playing, looped, for well over the 10 s needed); the gains arrive as host
    // gestures, so Export writes them. Then Clear flattens the curve again.
    let reference =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/by-product_excerpt.flac");
    screen.click(675, 18);
    screen.xdotool(&["type", "--delay", "10", &reference.display().to_string()]);
    screen.click(789, 18);
    let matched = wait_for(Duration::from_secs(30), || {
        let s = export(&screen, &settings_file);
        (!s.match_eq.is_neutral()).then_some(s)
    })
    .expect("Load set a match curve");
    let largest = matched
        .match_eq
        .mid_gains_db()
        .iter()
        .fold(0.0f32, |m, g| m.max(g.abs()));
    println!("reference loaded: largest match gain {largest:.2} dB");
    assert!(largest > 1.0, "the match curve is all but flat");
    assert!((matched.match_eq.amount_pct - 70.0).abs() < 1e-3);
    // Nothing but the match curve moved.
    let mut expected = matched;
    expected.match_eq = Default::default();
    assert_same_settings(&expected, &wanted);
    screen.move_to(1000, 650);
    sleep(Duration::from_secs(1));
    screen.shot("reference_loaded");
    screen.click(841, 18);
    let cleared = export(&screen, &settings_file);
    assert!(cleared.match_eq.is_neutral(), "Clear flattens the curve");

    // The Expert button.
    let easy = screen.shot("easy_3");
    screen.click(150, 18);
    sleep(Duration::from_millis(500));
    let expert = screen.shot("expert");
    // The view buttons: the selected one has egui's selection fill (blue).
    let selected = |shot: &(Vec<u8>, usize), x: usize, y: usize| {
        let i = (y * shot.1 + x) * 3;
        shot.0[i + 2] > shot.0[i] + 60
    };
    assert!(selected(&easy, 76, 14) && !selected(&easy, 128, 14));
    assert!(selected(&expert, 128, 14) && !selected(&expert, 76, 14));
    // And the body changed: the EQ plot now spans the window where the easy view had the
    // target and loudness panels.
    let changed = changed_pixels(&easy, &expert, BODY);
    let share = changed as f32 / ((BODY[2] - BODY[0]) * (BODY[3] - BODY[1])) as f32;
    println!("expert view: {:.0}% of the body changed", share * 100.0);
    assert!(
        share > 0.1,
        "the expert view replaced the easy one ({share})"
    );
}
