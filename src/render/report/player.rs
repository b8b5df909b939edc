//! report.html's player: the mix and the master, level-matched, on one transport with an A/B
//! switch, over the short-term loudness picture with a playhead.
//!
//! The audio sits beside the page as a script (`report.audio.js` beside `report.html`, see
//! [`audio_script_name`]) that sets `window.LATHE_PREVIEW` to the two previews, MP3s in
//! base64. A script because the page must work opened from disk, with no server: Chromium
//! refuses `fetch()` and XHR of `file://` URLs ("URL scheme "file" is not supported"), and
//! an `<audio>` element playing a file beside the page feeds Web Audio silence ("outputs
//! zeroes due to CORS access restrictions"), while `<script src>` loads from disk everywhere.
//! The page decodes both previews with `decodeAudioData` and plays them from two buffer
//! sources started together, each through its own gain; A/B opens one gain and closes the
//! other, so the position is kept by construction.
//!
//! MP3 at 320 kbps (the deliverable's encoder): every browser's `decodeAudioData` takes it,
//! and it is 36% of the size of a 16-bit FLAC (3 minutes of a loud master: 7.2 MB against
//! 19.9 MB; report.audio.js holds two, in base64: 19.2 MB). Chromium trims LAME's
//! encoder delay and padding (the Info frame), so each preview decodes to its source's exact
//! length; both are encoded at the same rate, so a browser that did not trim would still
//! keep them aligned with each other. Previews stop at [`PREVIEW_MAX_S`]. When the render
//! makes the MP3 deliverable (the default set does) and the master fits in that, the master's
//! preview is that file itself ([`reuses_mp3_deliverable`]), not a second encode of the
//! master; only the mix is encoded, at the MP3's rate.

use std::io::Write as _;
use std::path::Path;

use super::html::escape;
use super::plot::TimeAxis;
use super::ReportError;
use crate::render::cancel::Cancel;
use crate::render::encode::mp3::Mp3Stream;
use crate::render::encode::temporary_path;
use crate::render::error::RenderError;
use crate::render::formats::Format;
use crate::render::measure::Measurement;
use crate::render::metadata::Metadata;
use crate::render::resample::resample_blocks;

/// Previews stop after this many seconds. The browser holds both decoded, as 32-bit floats:
/// 10 minutes of stereo at 48 kHz is 230 MB each, and the script beside the page 64 MB.
pub const PREVIEW_MAX_S: u32 = 600;

/// Frames per block handed to the encoder.
const BLOCK_FRAMES: usize = 1 << 16;

/// The name of the audio script beside the page named `html_name`:
/// `report.html` → `report.audio.js`, `Night Drive.report.html` →
/// `Night Drive.report.audio.js`.
pub fn audio_script_name(html_name: &str) -> String {
    let stem = html_name.strip_suffix(".html").unwrap_or(html_name);
    format!("{stem}.audio.js")
}

/// The rate both previews are encoded at, for a streaming master at `master_rate`: 44.1 kHz
/// for its family, 48 kHz otherwise (MP3 has no higher rates).
pub fn preview_rate(master_rate: u32) -> u32 {
    if master_rate.is_multiple_of(11_025) {
        44_100
    } else {
        48_000
    }
}

/// Whether the master's preview is the render's MP3 deliverable: when `formats` has one and
/// `seconds` of master fit in a preview. Saves encoding the master again (about 0.7 s of a
/// core per minute of audio).
pub fn reuses_mp3_deliverable(formats: &[Format], seconds: f64) -> bool {
    formats.contains(&Format::Mp3) && seconds <= f64::from(PREVIEW_MAX_S)
}

/// The MP3 deliverable staged at `path`, measured as `m`, as the master's preview.
pub fn preview_of_mp3_file(path: &Path, m: &Measurement) -> Result<PreviewClip, String> {
    let mp3 = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(PreviewClip {
        mp3,
        sample_rate: m.sample_rate,
        seconds: m.duration_s,
        truncated: false,
        integrated_lufs: m.integrated_lufs.is_finite().then_some(m.integrated_lufs),
    })
}

/// One source's preview.
#[derive(Debug, Clone, PartialEq)]
pub struct PreviewClip {
    /// The MP3 file's bytes.
    pub mp3: Vec<u8>,
    pub sample_rate: u32,
    /// Seconds of audio in the preview.
    pub seconds: f64,
    /// Whether the source was longer than [`PREVIEW_MAX_S`].
    pub truncated: bool,
    /// Integrated loudness of the audio the preview was made from (`None` for silence): the
    /// level matching turns the louder source down by the difference.
    pub integrated_lufs: Option<f64>,
}

/// Both previews.
#[derive(Debug, Clone, PartialEq)]
pub struct Preview {
    pub mix: PreviewClip,
    pub master: PreviewClip,
}

/// The previews, or why there are none (the page then says so instead of showing a player).
pub type PreviewResult = Result<Preview, String>;

/// Encodes the first [`PREVIEW_MAX_S`] of planar `channels` at `rate` as a 320 kbps MP3 at
/// `to_rate`, converting the rate block by block where it differs, so nothing of the size of
/// the audio is held but the MP3 (2.4 MB a minute).
pub fn encode_preview(
    channels: &[Vec<f32>],
    rate: u32,
    to_rate: u32,
    integrated_lufs: f64,
    cancel: &Cancel,
) -> Result<PreviewClip, String> {
    let total = channels.iter().map(Vec::len).min().unwrap_or(0);
    let frames = total.min(PREVIEW_MAX_S as usize * rate as usize);
    if frames == 0 {
        return Err("the audio is empty".into());
    }
    let out_frames = crate::render::resample::output_frames(frames, rate, to_rate);
    let mut mp3 = Mp3Stream::new(channels.len(), to_rate, out_frames)?;
    let mut push = |planes: &[&[f32]]| -> Result<(), RenderError> {
        cancel.check()?;
        mp3.push(planes, 1.0).map_err(|detail| RenderError::Encode {
            path: "preview".into(),
            format: "MP3",
            detail,
        })
    };
    if rate == to_rate {
        for start in (0..frames).step_by(BLOCK_FRAMES) {
            let end = (start + BLOCK_FRAMES).min(frames);
            let planes: Vec<&[f32]> = channels.iter().map(|c| &c[start..end]).collect();
            push(&planes).map_err(|e| e.to_string())?;
        }
    } else {
        resample_blocks(channels, frames, rate, to_rate, &mut push).map_err(|e| e.to_string())?;
    }
    Ok(PreviewClip {
        mp3: mp3.finish(&Metadata::default())?,
        sample_rate: to_rate,
        seconds: out_frames as f64 / f64::from(to_rate),
        truncated: frames < total,
        integrated_lufs: integrated_lufs.is_finite().then_some(integrated_lufs),
    })
}

/// Writes `preview` as the script `path` (see the module's documentation), atomically,
/// base64-encoding as it writes rather than holding the text.
pub fn write_audio_script(path: &Path, preview: &Preview) -> Result<(), ReportError> {
    let tmp = temporary_path(path);
    let io = |e| ReportError::Io {
        path: path.to_path_buf(),
        source: e,
    };
    let write = || -> std::io::Result<()> {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
        out.write_all(
            b"// The audio of the player in the report beside this file: the mix and the master\n\
              // as 320 kbps MP3s in base64. Written by Lathe; it only sets this value.\n\
              window.LATHE_PREVIEW = {\"type\": \"audio/mpeg\"",
        )?;
        write!(out, ", \"sample_rate\": {}", preview.master.sample_rate)?;
        for (name, clip) in [("mix", &preview.mix), ("master", &preview.master)] {
            write!(out, ", \"{name}\": \"")?;
            {
                let mut b64 = base64::write::EncoderWriter::new(
                    &mut out,
                    &base64::engine::general_purpose::STANDARD,
                );
                b64.write_all(&clip.mp3)?;
                b64.finish()?;
            }
            out.write_all(b"\"")?;
        }
        out.write_all(b"};\n")?;
        out.flush()
    };
    if let Err(e) = write() {
        let _ = std::fs::remove_file(&tmp);
        return Err(io(e));
    }
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io(e)
    })
}

/// The gains that play both sources at the same integrated loudness: the louder one is
/// turned down (so neither clips), by the difference rounded to the 0.1 dB the page shows,
/// and that shown figure is the gain the player applies.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct LevelMatch {
    pub mix_db: f64,
    pub master_db: f64,
}

impl LevelMatch {
    /// Both at 0 dB when either loudness is unknown (silence has none).
    pub fn of(mix_lufs: Option<f64>, master_lufs: Option<f64>) -> Self {
        let (mut mix_db, mut master_db) = (0.0, 0.0);
        if let (Some(mix), Some(master)) = (mix_lufs, master_lufs) {
            let difference = ((master - mix) * 10.0).round() / 10.0;
            if difference > 0.0 {
                master_db = -difference;
            } else if difference < 0.0 {
                mix_db = difference;
            }
        }
        Self { mix_db, master_db }
    }
}

/// What the page needs to show the player.
#[derive(Debug, Clone, PartialEq)]
pub enum PagePlayer {
    /// The previews are in the script `script` beside the page.
    Ready {
        script: String,
        level: LevelMatch,
        mix_lufs: Option<f64>,
        master_lufs: Option<f64>,
        /// Where the previews stop, when the sources are longer.
        truncated_s: Option<f64>,
    },
    /// No previews, and why.
    Unavailable(String),
}

impl PagePlayer {
    pub fn new(script: String, preview: &PreviewResult) -> Self {
        match preview {
            Ok(p) => Self::Ready {
                script,
                level: LevelMatch::of(p.mix.integrated_lufs, p.master.integrated_lufs),
                mix_lufs: p.mix.integrated_lufs,
                master_lufs: p.master.integrated_lufs,
                truncated_s: (p.mix.truncated || p.master.truncated)
                    .then_some(f64::from(PREVIEW_MAX_S)),
            },
            Err(why) => Self::Unavailable(why.clone()),
        }
    }
}

pub(crate) const STYLE: &str = r#"
.player { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 12px; margin: 0 0 10px; }
.player button { font: inherit; padding: 4px 14px; border: 1px solid var(--line); border-radius: 4px; background: var(--panel); color: var(--ink); cursor: pointer; }
.player button[aria-pressed="true"] { background: var(--accent); border-color: var(--accent); color: #fff; }
.player .time { font-variant-numeric: tabular-nums; min-width: 8em; }
.player .gains, .player-note { color: var(--muted); font-size: 13px; }
.plotwrap { position: relative; }
.plotwrap img { display: block; }
.plotwrap.live { cursor: pointer; }
.playhead { position: absolute; width: 2px; margin-left: -1px; background: #c0392b; pointer-events: none; }
.player[hidden], .playhead[hidden], .player-note[hidden] { display: none; }
"#;

/// A gain for the page: "0.0 dB", "-4.3 dB".
fn db(gain_db: f64) -> String {
    if gain_db == 0.0 {
        "0.0 dB".into()
    } else {
        format!("{gain_db:+.1} dB")
    }
}

/// The transport and the one-line note above the loudness picture. Without JavaScript or
/// without the audio the note stays and the controls stay hidden.
pub(crate) fn controls(h: &mut String, player: &PagePlayer) {
    use std::fmt::Write as _;
    let (script, level, mix_lufs, master_lufs, truncated_s) = match player {
        PagePlayer::Ready {
            script,
            level,
            mix_lufs,
            master_lufs,
            truncated_s,
        } => (script, level, mix_lufs, master_lufs, truncated_s),
        PagePlayer::Unavailable(why) => {
            let _ = writeln!(
                h,
                "<p class=\"player-note\">No player: {}.</p>",
                escape(why)
            );
            return;
        }
    };
    // The quieter source plays as it is; the louder one comes down to it.
    let quieter = match (mix_lufs, master_lufs) {
        (Some(mix), Some(master)) => {
            let (who, lufs) = if level.master_db < 0.0 {
                ("mix", mix)
            } else {
                ("master", master)
            };
            format!(", so both play at the {who}'s integrated loudness of {lufs:.1} LUFS")
        }
        _ => " (not level-matched: silence has no loudness)".into(),
    };
    let truncated = truncated_s.map_or(String::new(), |s| {
        format!(
            " The previews hold the first {}.",
            super::plot::minutes_seconds(&s)
        )
    });
    let _ = writeln!(
        h,
        "<p class=\"player-note\" id=\"pl-note\">The player needs JavaScript and {}, the audio \
         beside this page.</p>\n<div class=\"player\" id=\"pl\" hidden>\
         <button type=\"button\" id=\"pl-play\">Play</button>\
         <button type=\"button\" id=\"pl-mix\" aria-pressed=\"false\" title=\"key A\">A: Mix</button>\
         <button type=\"button\" id=\"pl-master\" aria-pressed=\"true\" title=\"key B\">B: Master</button>\
         <span class=\"time\" id=\"pl-time\">0:00</span>\
         <span class=\"gains\" id=\"pl-gains\">Level-matched: mix {}, master {}{}. Space plays \
         and pauses, A and B switch, a click on the picture moves the playhead.{}</span></div>",
        escape(script),
        db(level.mix_db),
        db(level.master_db),
        escape(&quieter),
        escape(&truncated)
    );
}

/// The loudness picture `img` (an `<img>` element), with the playhead over
/// it when there is a player.
pub(crate) fn picture(h: &mut String, img: &str, player: Option<&PagePlayer>, axis: &TimeAxis) {
    use std::fmt::Write as _;
    match player {
        Some(PagePlayer::Ready { .. }) => {
            let pct = |v: f64, of: u32| 100.0 * v / f64::from(of);
            let _ = write!(
                h,
                "<div class=\"plotwrap\" id=\"pl-wrap\">{img}<div class=\"playhead\" id=\"pl-head\" \
                 hidden style=\"top: {:.3}%; height: {:.3}%; left: {:.3}%\"></div></div>",
                pct(axis.top_px, axis.height_px),
                pct(axis.bottom_px - axis.top_px, axis.height_px),
                pct(axis.left_px, axis.width_px),
            );
        }
        _ => h.push_str(img),
    }
}

/// The scripts at the end of the page: the audio, the player's settings as JSON, and the
/// player. Nothing from outside the program reaches the code: the settings are a JSON data
/// block with `<` escaped, the script's name is percent-encoded.
pub(crate) fn scripts(h: &mut String, player: &PagePlayer, axis: &TimeAxis) {
    use std::fmt::Write as _;
    let PagePlayer::Ready { script, level, .. } = player else {
        return;
    };
    let settings = serde_json::json!({
        "script": script,
        "gain_db": { "mix": level.mix_db, "master": level.master_db },
        "axis": axis,
    });
    let _ = write!(
        h,
        "<script src=\"{}\"></script>\n<script type=\"application/json\" id=\"pl-settings\">{}\
         </script>\n<script>{PLAYER_JS}</script>\n",
        escape(&percent_encode(script)),
        settings.to_string().replace('<', "\\u003c")
    );
}

/// `name` as a relative URL: every byte but unreserved ones (RFC 3986 §2.3) percent-encoded,
/// so a title with `#`, `?` or `%` in it still names the file.
fn percent_encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The player. `#selftest=<port>` in the page's address runs tests/report_player.rs's checks
/// and sends the result to that port on 127.0.0.1; nothing else leaves the page.
const PLAYER_JS: &str = r#"
(() => {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const cfg = JSON.parse($("pl-settings").textContent);
  const note = $("pl-note"), head = $("pl-head"), wrap = $("pl-wrap"), axis = cfg.axis;
  const errors = [];
  addEventListener("error", (e) => errors.push(String(e.message)));
  addEventListener("unhandledrejection", (e) => errors.push(String(e.reason)));
  const shown = (id) => $(id).getBoundingClientRect().height > 0;
  // As the page is without JavaScript: the note, not the controls (for the self-test).
  const initially = { note: shown("pl-note"), player: shown("pl"), playhead: shown("pl-head") };
  const names = ["mix", "master"];
  const buffers = {}, gains = {};
  let ctx = null, sources = [], playing = false, offset = 0, startedAt = 0, duration = 0;
  let chosen = "master";

  const decodeBase64 = (text) => {
    const s = atob(text), bytes = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
    return bytes.buffer;
  };
  const ready = (async () => {
    const audio = window.LATHE_PREVIEW;
    if (!audio) throw new Error(cfg.script + ", the audio beside this page, is missing");
    if (!window.AudioContext) throw new Error("this browser has no Web Audio");
    note.textContent = "Decoding the audio\u2026";
    // Decoded offline at the previews' own rate; the context that plays them is made on the
    // first click (browsers refuse to start one before the page is used, and say so).
    const decoder = new OfflineAudioContext(1, 1, audio.sample_rate);
    for (const n of names) buffers[n] = await decoder.decodeAudioData(decodeBase64(audio[n]));
    duration = Math.min(buffers.mix.duration, buffers.master.duration);
  })();

  const level = (n) => Math.pow(10, cfg.gain_db[n] / 20);
  const context = () => {
    if (!ctx) {
      ctx = new AudioContext();
      for (const n of names) {
        gains[n] = ctx.createGain();
        gains[n].gain.value = n === chosen ? level(n) : 0;
        gains[n].connect(ctx.destination);
      }
    }
    return ctx;
  };
  // Opens one source's gain at its level-matching figure and closes the other, with a 10 ms
  // ramp so the switch does not click.
  const select = (which) => {
    chosen = which;
    const t = context().currentTime;
    for (const n of names) {
      const g = gains[n].gain;
      g.cancelScheduledValues(t);
      g.setValueAtTime(g.value, t);
      g.linearRampToValueAtTime(n === which ? level(n) : 0, t + 0.01);
      $("pl-" + n).setAttribute("aria-pressed", String(n === which));
    }
  };
  const position = () =>
    playing ? Math.min(duration, offset + Math.max(0, ctx.currentTime - startedAt)) : offset;
  const stopSources = () => {
    for (const s of sources) s.stop();
    sources = [];
  };
  const play = () => {
    context().resume();
    // Both start at the same instant of the audio clock, a little ahead so neither is late.
    startedAt = ctx.currentTime + 0.05;
    sources = names.map((n) => {
      const s = ctx.createBufferSource();
      s.buffer = buffers[n];
      s.connect(gains[n]);
      s.start(startedAt, offset);
      return s;
    });
    playing = true;
    $("pl-play").textContent = "Pause";
  };
  const pause = () => {
    offset = position();
    stopSources();
    playing = false;
    $("pl-play").textContent = "Play";
  };
  const seek = (t) => {
    const was = playing;
    if (was) pause();
    offset = Math.min(Math.max(t, 0), duration);
    if (was) play();
  };
  const clock = (t) => Math.floor(t / 60) + ":" + String(Math.floor(t % 60)).padStart(2, "0");
  const draw = () => {
    if (playing && position() >= duration) {
      pause();
      offset = 0;
    }
    const t = position();
    const x = axis.left_px + ((t - axis.start_s) / (axis.end_s - axis.start_s)) * (axis.right_px - axis.left_px);
    head.style.left = (100 * x) / axis.width_px + "%";
    $("pl-time").textContent = clock(t) + " / " + clock(duration);
    requestAnimationFrame(draw);
  };

  ready.then(() => {
    note.hidden = true;
    $("pl").hidden = false;
    head.hidden = false;
    wrap.classList.add("live");
    $("pl-play").onclick = () => (playing ? pause() : play());
    $("pl-mix").onclick = () => select("mix");
    $("pl-master").onclick = () => select("master");
    wrap.onclick = (e) => {
      const r = wrap.getBoundingClientRect();
      const x = ((e.clientX - r.left) / r.width) * axis.width_px;
      seek(axis.start_s + ((x - axis.left_px) / (axis.right_px - axis.left_px)) * (axis.end_s - axis.start_s));
    };
    addEventListener("keydown", (e) => {
      if (e.target.closest("input, textarea, select") || e.ctrlKey || e.metaKey || e.altKey) return;
      const k = e.key.toLowerCase();
      // Space on a button is that button's click.
      if (k === " " && e.target.closest("button")) return;
      if (k === " ") playing ? pause() : play();
      else if (k === "a") select("mix");
      else if (k === "b") select("master");
      else return;
      e.preventDefault();
    });
    requestAnimationFrame(draw);
  }, (e) => {
    note.textContent = "No player: " + e.message + ".";
  });

  // The browser test (tests/report_player.rs): decode, switch A, B, A reading both gains
  // after each ramp, play for a second, and report what happened.
  const selftest = /^#selftest=(\d{1,5})$/.exec(location.hash);
  if (!selftest) return;
  const wait = (ms) => new Promise((done) => setTimeout(done, ms));
  const result = { errors, initially };
  (async () => {
    await ready;
    result.ready = { note: shown("pl-note"), player: shown("pl"), playhead: shown("pl-head") };
    result.decoded = names.map((n) => ({
      name: n,
      duration_s: buffers[n].duration,
      sample_rate: buffers[n].sampleRate,
      channels: buffers[n].numberOfChannels,
    }));
    result.switches = [];
    for (const n of ["mix", "master", "mix"]) {
      select(n);
      await wait(150);
      result.switches.push({ selected: n, mix: gains.mix.gain.value, master: gains.master.gain.value });
    }
    play();
    await wait(300);
    const before = { t: position(), x: head.getBoundingClientRect().left };
    await wait(1000);
    const after = { t: position(), x: head.getBoundingClientRect().left };
    pause();
    Object.assign(result, { before, after, state: ctx.state, context_rate: ctx.sampleRate });
  })()
    .catch((e) => (result.failure = String(e)))
    .then(() => {
      const json = encodeURIComponent(JSON.stringify(result));
      new Image().src = "http://127.0.0.1:" + selftest[1] + "/result?" + json;
    });
})();
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_audio_script_is_named_after_the_page() {
        assert_eq!(audio_script_name("report.html"), "report.audio.js");
        assert_eq!(
            audio_script_name("Night Drive.report.html"),
            "Night Drive.report.audio.js"
        );
        assert_eq!(percent_encode("Night #1?.js"), "Night%20%231%3F.js");
    }

    #[test]
    fn the_louder_source_is_turned_down_by_the_shown_difference() {
        let m = LevelMatch::of(Some(-17.84), Some(-14.02));
        assert_eq!((m.mix_db, m.master_db), (0.0, -3.8));
        let m = LevelMatch::of(Some(-9.0), Some(-14.0));
        assert_eq!((m.mix_db, m.master_db), (-5.0, 0.0));
        let m = LevelMatch::of(None, Some(-14.0));
        assert_eq!((m.mix_db, m.master_db), (0.0, 0.0));
        assert_eq!(db(-3.8), "-3.8 dB");
        assert_eq!(db(0.0), "0.0 dB");
        assert_eq!(preview_rate(96_000), 48_000);
        assert_eq!(preview_rate(88_200), 44_100);
        assert_eq!(preview_rate(44_100), 44_100);
    }
}
