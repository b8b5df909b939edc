//! The peers Lathe is measured beside, run through ffmpeg: its two-pass `loudnorm` (the usual
//! way to hit a loudness target with it) and `alimiter` after a gain. ffmpeg runs with
//! `-filter_threads 1`: on a 2-core machine its default filter threading is several times
//! slower (../shared/NOTES.md).

use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};

/// Runs ffmpeg with `args` and returns what it printed on stderr (its log).
pub fn ffmpeg(args: &[&str]) -> Result<String> {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-filter_threads", "1"])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .context("cannot run ffmpeg (install it: apt-get install ffmpeg)")?;
    let log = String::from_utf8_lossy(&out.stderr).into_owned();
    if !out.status.success() {
        bail!("ffmpeg failed: {log}");
    }
    Ok(log)
}

/// A value from loudnorm's JSON summary, e.g. `"input_i" : "-17.80"`.
fn json_field(log: &str, key: &str) -> Result<String> {
    let at = log
        .find(&format!("\"{key}\""))
        .with_context(|| format!("loudnorm printed no {key}"))?;
    let rest = &log[at + key.len() + 2..];
    let value = rest
        .split('"')
        .nth(1)
        .with_context(|| format!("loudnorm's {key} has no value"))?;
    Ok(value.to_string())
}

fn utf8(path: &Path) -> Result<&str> {
    path.to_str().context("path is not UTF-8")
}

/// ffmpeg's `loudnorm` in its two-pass form (measure, then apply linearly) to `target_lufs`
/// at a -1 dBTP ceiling, writing a 48 kHz WAV with `codec` (e.g. `pcm_s24le`).
pub fn loudnorm_two_pass(
    mix: &Path,
    out: &Path,
    target_lufs: f64,
    lra: f64,
    codec: &str,
) -> Result<()> {
    let mix = utf8(mix)?;
    let first = ffmpeg(&[
        "-i",
        mix,
        "-af",
        &format!("loudnorm=I={target_lufs}:TP=-1:LRA={lra}:print_format=json"),
        "-f",
        "null",
        "-",
    ])?;
    let field = |k| json_field(&first, k);
    let filter = format!(
        "loudnorm=I={target_lufs}:TP=-1:LRA={lra}:measured_I={}:measured_TP={}:\
         measured_LRA={}:measured_thresh={}:offset={}:linear=true",
        field("input_i")?,
        field("input_tp")?,
        field("input_lra")?,
        field("input_thresh")?,
        field("target_offset")?,
    );
    ffmpeg(&[
        "-y",
        "-i",
        mix,
        "-af",
        &filter,
        "-ar",
        "48000",
        "-c:a",
        codec,
        utf8(out)?,
    ])?;
    Ok(())
}

/// `gain_db` then ffmpeg's `alimiter` at -1 dBFS (limit 0.891), 5 ms attack, 50 ms release, no
/// level normalisation: the settings ../shared/tools/quality_eval.py uses. 32-bit float WAV.
pub fn alimiter(mix: &Path, out: &Path, gain_db: f64) -> Result<()> {
    ffmpeg(&[
        "-y",
        "-i",
        utf8(mix)?,
        "-af",
        &format!("volume={gain_db:.3}dB,alimiter=limit=0.891:level=disabled:attack=5:release=50"),
        "-ar",
        "48000",
        "-c:a",
        "pcm_f32le",
        utf8(out)?,
    ])?;
    Ok(())
}
