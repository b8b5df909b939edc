//! `report.html`: one page (inline CSS, the plots as PNG data URIs, nothing fetched), so it
//! can be mailed to a client and opened anywhere, offline. With a player ([`super::player`])
//! it has one inline script and loads one more, the audio, from the file beside it; without
//! JavaScript or without that file every figure and table reads the same, and a one-line note
//! stands where the player would be. Without a player there is no script at all.
//!
//! Every string that comes from outside the program (file names, check details, notes) goes
//! through [`escape`]; numbers are formatted here.

use std::fmt::Write as _;
use std::path::Path;

use base64::Engine as _;

use super::document::{MeasurementRecord, ReportDocument};
use super::player::{self, PagePlayer};
use super::Plots;
use crate::render::preflight::Severity;
use crate::render::LOUDNESS_TOLERANCE_LU;

/// Escapes text for HTML element content and double- or single-quoted attribute values
/// (the five characters the HTML spec's serialisation algorithm and OWASP's XSS rules name).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A PNG as a `data:` URI.
pub fn png_data_uri(png: &[u8]) -> String {
    format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(png)
    )
}

/// `value` with `decimals` and `unit`, or an en dash when there is no value.
pub(crate) fn num(value: Option<f64>, decimals: usize, unit: &str) -> String {
    match value {
        Some(v) if unit.is_empty() => format!("{v:.decimals$}"),
        Some(v) => format!("{v:.decimals$} {unit}"),
        None => "\u{2013}".to_string(),
    }
}

pub(crate) fn file_name(path: &str) -> String {
    Path::new(path)
        .file_name()
        .map_or_else(|| path.to_string(), |n| n.to_string_lossy().into_owned())
}

pub(crate) const STYLE: &str = r#"
:root { --ink: #22262e; --muted: #5d6570; --line: #d0d4da; --bg: #ffffff; --panel: #f5f6f8;
        --ok: #1e7b3a; --ok-bg: #e3f3e8; --bad: #b3261e; --bad-bg: #fbe6e4; --accent: #1f5fbf; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
       font: 15px/1.5 "DejaVu Sans", "Segoe UI", Helvetica, Arial, sans-serif; }
main { max-width: 1140px; margin: 0 auto; padding: 28px 20px 48px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 36px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
.sub { color: var(--muted); margin: 0; overflow-wrap: anywhere; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(160px, 1fr)); gap: 12px; margin-top: 22px; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px; }
.card .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.card .value { font-size: 22px; font-variant-numeric: tabular-nums; }
.card .note { font-size: 13px; color: var(--muted); }
.card.ok { border-left: 4px solid var(--ok); } .card.bad { border-left: 4px solid var(--bad); }
.warnings { background: var(--bad-bg); border: 1px solid #e8b4ae; border-radius: 6px; padding: 10px 16px; margin-top: 18px; }
.warnings ul { margin: 4px 0 0; padding-left: 20px; }
figure { margin: 0; }
figure img { width: 100%; height: auto; border: 1px solid var(--line); border-radius: 4px; }
figcaption { color: var(--muted); font-size: 13px; margin-top: 4px; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--panel); font-weight: 600; white-space: nowrap; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.file { overflow-wrap: anywhere; }
td.send { white-space: nowrap; }
.pass, .fail { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; }
.pass { color: var(--ok); background: var(--ok-bg); } .fail { color: var(--bad); background: var(--bad-bg); }
.sev-note, .sev-warning { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; }
.sev-note { color: var(--accent); background: #e6eefa; } .sev-warning { color: #8a5a00; background: #fdf0d5; }
pre { background: var(--panel); border: 1px solid var(--line); border-radius: 4px; padding: 10px; overflow-x: auto; font-size: 12.5px; }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; }
.story { margin-top: 18px; font-size: 16px; max-width: 860px; }
.story p { margin: 0 0 8px; }
.advice { background: #fdf0d5; border: 1px solid #ecd19a; border-radius: 6px; padding: 8px 14px; }
abbr[title] { text-decoration: underline dotted; cursor: help; }
.card[title] { cursor: help; }
dl.glossary { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; font-size: 14px; }
dl.glossary dt { font-weight: 600; } dl.glossary dd { margin: 0; }
"#;

/// The whole page, without a player.
pub fn render_html(doc: &ReportDocument, plots: &Plots) -> String {
    render_html_with_player(doc, plots, None)
}

/// The whole page, with the player when `player` is given.
pub fn render_html_with_player(
    doc: &ReportDocument,
    plots: &Plots,
    player: Option<&PagePlayer>,
) -> String {
    let mut h = String::with_capacity(
        16_384 + (plots.loudness_png.len() + plots.spectrum_png.len()) * 4 / 3,
    );
    let mix_name = escape(&file_name(&doc.mix.path));
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Mastering report: {mix_name}</title>\n<style>{STYLE}{}</style>\n</head>\n<body>\n<main>\n",
        if player.is_some() { player::STYLE } else { "" }
    );
    // File names only: a report travels to clients, and a machine's folders are nobody's
    // business but its owner's.
    let master_name = doc.streaming_master().map_or(String::new(), |d| {
        format!(" &rarr; {}", escape(&file_name(&d.path)))
    });
    let _ = write!(
        h,
        "<header>\n<h1>Mastering report</h1>\n<p class=\"sub\">{mix_name}{master_name} &middot; {} \
         &middot; {} {}</p>\n</header>\n",
        escape(&doc.created_utc),
        escape(&doc.tool),
        escape(&doc.tool_version),
    );
    story(&mut h, doc);
    summary(&mut h, doc);
    if !doc.warnings.is_empty() {
        h.push_str("<div class=\"warnings\"><strong>Warnings</strong>\n<ul>\n");
        for w in &doc.warnings {
            let _ = writeln!(h, "<li>{}</li>", escape(w));
        }
        h.push_str("</ul></div>\n");
    }
    which_file_where(&mut h, doc);
    figures(&mut h, doc, plots, player);
    crate::render::reference::html::sections(&mut h, doc);
    preflight(&mut h, doc);
    crate::render::stems::html::section(&mut h, doc.stems.as_ref());
    measurements(&mut h, doc);
    platforms(&mut h, doc);
    settings(&mut h, doc);
    glossary(&mut h);
    let _ = write!(
        h,
        "<footer>Made by {} {} from {}. Loudness and true peak per ITU-R BS.1770-4 and EBU R 128, \
         loudness range per EBU Tech 3342; every deliverable measured as decoded back from disk.</footer>\n\
         </main>\n",
        escape(&doc.tool),
        escape(&doc.tool_version),
        mix_name
    );
    if let Some(p) = player {
        player::scripts(&mut h, p, &plots.loudness_axis);
    }
    h.push_str("</body>\n</html>\n");
    h
}

pub(crate) fn card(h: &mut String, label: &str, value: &str, note: &str, status: Option<bool>) {
    explained_card(h, label, value, note, status, None);
}

/// A card whose label explains itself on hover (`help`, one line from [`GLOSSARY`]).
fn explained_card(
    h: &mut String,
    label: &str,
    value: &str,
    note: &str,
    status: Option<bool>,
    help: Option<&str>,
) {
    let class = match status {
        Some(true) => "card ok",
        Some(false) => "card bad",
        None => "card",
    };
    let title = help.map_or(String::new(), |t| format!(" title=\"{}\"", escape(t)));
    let _ = writeln!(
        h,
        "<div class=\"{class}\"{title}><div class=\"label\">{}</div><div class=\"value\">{}</div>\
         <div class=\"note\">{}</div></div>",
        escape(label),
        escape(value),
        escape(note)
    );
}

/// The terms the report uses, each in one line, for hover titles and the glossary.
pub const GLOSSARY: [(&str, &str); 8] = [
    (
        "LUFS",
        "Loudness units relative to full scale: how loud music sounds on average over the whole \
         song (ITU-R BS.1770), the figure streaming services even out.",
    ),
    (
        "LU",
        "Loudness unit: a difference of loudness; 1 LU is 1 dB.",
    ),
    (
        "True peak",
        "The highest level the waveform reaches between its samples as a player's converter \
         rebuilds it, in dBTP (dB true peak); above 0 dBTP it distorts.",
    ),
    (
        "Ceiling",
        "The true peak no file may exceed; -1 dBTP leaves room for the peaks lossy encoding adds.",
    ),
    (
        "LRA",
        "Loudness range, in LU: how far the quiet and loud passages lie apart (EBU Tech 3342); \
         a small figure means even loudness.",
    ),
    (
        "PLR",
        "Peak-to-loudness ratio, in dB: true peak minus loudness; how much room the hits have \
         above the average. Under about 8 dB music sounds squashed.",
    ),
    (
        "Limiting",
        "How far the limiter turned the loudest moments down to keep them under the ceiling, \
         at its deepest.",
    ),
    (
        "Short-term loudness",
        "Loudness over the last 3 seconds, read every 100 ms: how loudness moves through the \
         song.",
    ),
];

/// The one-line explanation of `term` from [`GLOSSARY`].
fn help(term: &str) -> Option<&'static str> {
    GLOSSARY.iter().find(|(t, _)| *t == term).map(|(_, e)| *e)
}

/// `text` with its glossary line on hover.
fn term(text: &str, glossary_term: &str) -> String {
    match help(glossary_term) {
        Some(line) => format!("<abbr title=\"{}\">{}</abbr>", escape(line), escape(text)),
        None => escape(text),
    }
}

fn story(h: &mut String, doc: &ReportDocument) {
    if doc.summary.is_empty() {
        return;
    }
    h.push_str("<section class=\"story\">\n");
    for sentence in &doc.summary {
        let _ = writeln!(h, "<p>{}</p>", escape(sentence));
    }
    h.push_str("</section>\n");
}

fn which_file_where(h: &mut String, doc: &ReportDocument) {
    if doc.destinations.is_empty() {
        return;
    }
    h.push_str(
        "<h2>Which file goes where</h2>\n<div class=\"scroll\"><table>\n\
         <tr><th>For</th><th>Send</th><th>Why</th></tr>\n",
    );
    for d in &doc.destinations {
        let file = d
            .file
            .as_deref()
            .map_or_else(|| "\u{2013}".to_string(), escape);
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td class=\"send\">{file}</td><td>{}</td></tr>",
            escape(&d.destination),
            escape(&d.why)
        );
    }
    h.push_str("</table></div>\n");
    if let Some(note) = &doc.loud_master_note {
        let _ = writeln!(h, "<p class=\"advice\">{}</p>", escape(note));
    }
}

fn glossary(h: &mut String) {
    h.push_str("<h2>Terms</h2>\n<dl class=\"glossary\">\n");
    for (t, line) in GLOSSARY {
        let _ = writeln!(h, "<dt>{}</dt><dd>{}</dd>", escape(t), escape(line));
    }
    h.push_str("</dl>\n");
}

fn summary(h: &mut String, doc: &ReportDocument) {
    h.push_str("<section class=\"cards\">\n");
    let master = doc.streaming_master().map(|d| d.measurement);
    let source = &doc.mix.measurement;
    explained_card(
        h,
        "Target",
        &num(doc.target_lufs, 1, "LUFS"),
        "integrated loudness",
        None,
        help("LUFS"),
    );
    explained_card(
        h,
        "Ceiling",
        &num(Some(doc.ceiling_dbtp), 1, "dBTP"),
        "true peak",
        None,
        help("Ceiling"),
    );
    if let Some(m) = master {
        let (note, status) = match (doc.target_lufs, m.integrated_lufs) {
            (Some(t), Some(i)) => (
                if (i - t).abs() < 0.005 {
                    "on target".to_string()
                } else {
                    format!("{:+.2} LU from target", i - t)
                },
                Some((i - t).abs() <= LOUDNESS_TOLERANCE_LU),
            ),
            _ => (
                format!("mix {}", num(source.integrated_lufs, 1, "LUFS")),
                None,
            ),
        };
        explained_card(
            h,
            "Master loudness",
            &num(m.integrated_lufs, 1, "LUFS"),
            &note,
            status,
            help("LUFS"),
        );
        let (note, status) = match m.true_peak_dbtp {
            Some(tp) => {
                let margin = doc.ceiling_dbtp - tp;
                let ok = margin >= 0.0;
                let text = if margin >= 0.0 {
                    format!("{margin:.2} dB under the ceiling")
                } else {
                    format!("{:.2} dB over the ceiling", -margin)
                };
                (text, Some(ok))
            }
            None => ("no signal".to_string(), None),
        };
        explained_card(
            h,
            "Master true peak",
            &num(m.true_peak_dbtp, 2, "dBTP"),
            &note,
            status,
            help("True peak"),
        );
        explained_card(
            h,
            "Loudness range",
            &num(m.loudness_range_lu, 1, "LU"),
            &format!("mix {}", num(source.loudness_range_lu, 1, "LU")),
            None,
            help("LRA"),
        );
        explained_card(
            h,
            "PLR",
            &num(m.plr_db, 1, "dB"),
            &format!("mix {}", num(source.plr_db, 1, "dB")),
            None,
            help("PLR"),
        );
    }
    if let Some(l) = &doc.loudness {
        explained_card(
            h,
            "Limiting",
            &format!("{:.1} dB", l.peak_limiting_db),
            &format!(
                "at the deepest; {:+.1} dB of gain into the limiter",
                l.gain_db
            ),
            None,
            help("Limiting"),
        );
    }
    // Red only for a problem: a note (a short pre-gap, a 16-bit source) is no alarm.
    let count = |sev: Severity| doc.preflight.iter().filter(|c| c.severity == sev).count();
    let (problems, warnings, notes) = (
        count(Severity::Problem),
        count(Severity::Warning),
        count(Severity::Note),
    );
    let findings: Vec<String> = [
        (problems, "problem"),
        (warnings, "warning"),
        (notes, "note"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}{}", if *n == 1 { "" } else { "s" }))
    .collect();
    card(
        h,
        "Pre-flight",
        &format!(
            "{} of {} passed",
            doc.preflight.iter().filter(|c| c.passed).count(),
            doc.preflight.len()
        ),
        &if findings.is_empty() {
            "nothing to report".to_string()
        } else {
            format!("{}; see the findings below", findings.join(", "))
        },
        if problems > 0 {
            Some(false)
        } else if warnings > 0 {
            None
        } else {
            Some(true)
        },
    );
    h.push_str("</section>\n");
}

fn figures(h: &mut String, doc: &ReportDocument, plots: &Plots, player: Option<&PagePlayer>) {
    let target = doc.target_lufs.map_or(String::new(), |t| {
        format!(", dashed line at the {t:.1} LUFS target")
    });
    h.push_str("<h2>Loudness over time</h2>\n");
    if let Some(p) = player {
        player::controls(h, p);
    }
    h.push_str("<figure>");
    let img = format!(
        "<img src=\"{}\" width=\"1100\" height=\"440\" \
         alt=\"Short-term loudness over time of the mix and the master\">",
        png_data_uri(&plots.loudness_png)
    );
    player::picture(h, &img, player, &plots.loudness_axis);
    let _ = write!(
        h,
        "\n<figcaption>{} (3 s window, read every 100 ms) of the mix and of the master{}; \
         readings start once the first window is full.</figcaption></figure>\n",
        term("Short-term loudness", "Short-term loudness"),
        escape(&target)
    );
    let _ = write!(
        h,
        "<h2>Spectrum</h2>\n<figure><img src=\"{}\" width=\"{}\" height=\"{}\" \
         alt=\"Long-term average spectrum of the mix and the master at equal loudness, and \
         their difference\">\n<figcaption>Long-term average spectrum of the mid channel \
         (L+R)/2, Welch-averaged with a Hann window, in 1/6-octave bands; 0 dB is the level of a \
         full-scale sine, so pink noise reads flat. The mix is drawn {} so both play at the \
         same loudness: what differs is the tone the mastering changed, shown below as master \
         minus mix.</figcaption></figure>\n",
        png_data_uri(&plots.spectrum_png),
        super::plot::PLOT_WIDTH,
        super::plot::SPECTRUM_HEIGHT,
        escape(&spectrum_gain_text(doc))
    );
    for f in &plots.figures {
        let _ = write!(
            h,
            "<h2>{}</h2>\n<figure><img src=\"{}\" width=\"1100\" height=\"440\" alt=\"{}\">\n\
             <figcaption>{}</figcaption></figure>\n",
            escape(&f.heading),
            png_data_uri(&f.png),
            escape(&f.heading),
            escape(&f.caption)
        );
    }
}

fn preflight(h: &mut String, doc: &ReportDocument) {
    h.push_str(
        "<h2>Pre-flight checks of the mix</h2>\n<div class=\"scroll\"><table>\n\
         <tr><th>Check</th><th>Result</th><th>Detail</th></tr>\n",
    );
    for c in &doc.preflight {
        let badge = match c.severity {
            Severity::Ok => "<span class=\"pass\">pass</span>",
            Severity::Note => "<span class=\"sev-note\">note</span>",
            Severity::Warning => "<span class=\"sev-warning\">warning</span>",
            Severity::Problem => "<span class=\"fail\">problem</span>",
        };
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{badge}</td><td>{}</td></tr>",
            escape(&c.name),
            escape(&c.detail)
        );
    }
    h.push_str("</table></div>\n");
}

fn measurement_cells(h: &mut String, m: &MeasurementRecord) {
    let _ = write!(
        h,
        "<td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
         <td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>",
        num(m.integrated_lufs, 1, "LUFS"),
        num(m.loudness_range_lu, 1, "LU"),
        num(m.true_peak_dbtp, 2, "dBTP"),
        num(m.sample_peak_dbfs, 2, "dBFS"),
        num(m.plr_db, 1, "dB"),
        num(Some(m.duration_s), 2, "s"),
    );
}

fn measurements(h: &mut String, doc: &ReportDocument) {
    let _ = write!(
        h,
        "<h2>Deliverables</h2>\n<p class=\"sub\">Every file decoded back from disk and measured; \
         the mix for comparison.</p>\n<div class=\"scroll\"><table>\n<tr><th>File</th><th>Format</th>\
         <th>Rate</th><th>Bits</th><th>{}</th><th>{}</th><th>{}</th>\
         <th>Sample peak</th><th>{}</th><th>Duration</th></tr>\n",
        term("Integrated", "LUFS"),
        term("LRA", "LRA"),
        term("True peak", "True peak"),
        term("PLR", "PLR"),
    );
    let mix = &doc.mix;
    let bits = match mix.bits_per_sample {
        Some(b) if mix.is_float => format!("{b} float"),
        Some(b) => b.to_string(),
        None => "\u{2013}".to_string(),
    };
    let _ = write!(
        h,
        "<tr><td class=\"file\">{} <em>(mix)</em></td><td>{}</td><td class=\"n\">{}</td>\
         <td class=\"n\">{}</td>",
        escape(&file_name(&mix.path)),
        escape(&mix.container),
        khz(mix.measurement.sample_rate),
        escape(&bits)
    );
    measurement_cells(h, &mix.measurement);
    h.push_str("</tr>\n");
    for d in &doc.deliverables {
        let _ = write!(
            h,
            "<tr><td class=\"file\">{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>",
            escape(&file_name(&d.path)),
            escape(&d.format),
            khz(d.sample_rate),
            d.bits.map_or("\u{2013}".to_string(), |b| b.to_string())
        );
        measurement_cells(h, &d.measurement);
        h.push_str("</tr>\n");
        for note in &d.notes {
            let _ = writeln!(
                h,
                "<tr><td></td><td colspan=\"9\">{}</td></tr>",
                escape(note)
            );
        }
    }
    h.push_str("</table></div>\n");
}

fn platforms(h: &mut String, doc: &ReportDocument) {
    if doc.platforms.is_empty() {
        return;
    }
    let master = doc
        .streaming_master()
        .map_or(String::new(), |d| file_name(&d.path));
    let _ = write!(
        h,
        "<h2>Streaming platforms</h2>\n<p class=\"sub\">What loudness normalisation (on by \
         default) does to {}: the playback gain and the loudness a listener hears. Platforms \
         change their policies; these follow their published or measured behaviour.</p>\n\
         <div class=\"scroll\"><table>\n<tr><th>Platform</th><th>Target</th><th>Gain</th>\
         <th>Plays at</th><th>What happens</th></tr>\n",
        escape(&master)
    );
    for r in &doc.platforms {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
             <td class=\"n\">{}</td><td>{}</td></tr>",
            escape(&r.platform),
            num(Some(r.target_lufs), 0, "LUFS"),
            signed_db(r.gain_db),
            num(r.playback_lufs, 1, "LUFS"),
            escape(&r.note)
        );
    }
    h.push_str("</table></div>\n");
}

fn settings(h: &mut String, doc: &ReportDocument) {
    let memory = doc.peak_memory_bytes.map_or(String::new(), |b| {
        format!("; peak memory {:.0} MB", b as f64 / 1_048_576.0)
    });
    let _ = write!(
        h,
        "<h2>Settings</h2>\n<p class=\"sub\">Chain latency {} samples at the mix's rate \
         (trimmed from every deliverable){memory}.</p>\n<details><summary>Chain settings as used, \
         in the settings-file format (TOML)</summary><pre>{}</pre></details>\n",
        doc.latency_samples,
        escape(&doc.settings.to_toml())
    );
}

/// How the spectrum plot moved the mix to the master's loudness, in words ("3.8 dB higher").
fn spectrum_gain_text(doc: &ReportDocument) -> String {
    let master = doc
        .streaming_master()
        .and_then(|d| d.measurement.integrated_lufs);
    let gain = match (doc.mix.measurement.integrated_lufs, master) {
        (Some(mix), Some(master)) => super::level_match_db(mix, master),
        _ => 0.0,
    };
    if gain.abs() < 0.05 {
        "as it is".to_string()
    } else if gain > 0.0 {
        format!("{gain:.1} dB higher")
    } else {
        format!("{:.1} dB lower", -gain)
    }
}

/// A sample rate in kHz: "44.1 kHz", "48 kHz".
fn khz(rate: u32) -> String {
    if rate.is_multiple_of(1000) {
        format!("{} kHz", rate / 1000)
    } else {
        format!("{:.1} kHz", rate as f64 / 1000.0)
    }
}

/// A gain with its sign, and no sign on nothing ("0.0 dB", not "+0.0 dB" or "-0.0 dB").
fn signed_db(gain_db: f64) -> String {
    if gain_db.abs() < 0.05 {
        "0.0 dB".to_string()
    } else {
        format!("{gain_db:+.1} dB")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_neutralises_markup() {
        assert_eq!(
            escape("<script>alert('x&y')</script>\""),
            "&lt;script&gt;alert(&#39;x&amp;y&#39;)&lt;/script&gt;&quot;"
        );
    }

    #[test]
    fn missing_figures_show_a_dash() {
        assert_eq!(num(None, 1, "LUFS"), "\u{2013}");
        assert_eq!(num(Some(-14.04), 1, "LUFS"), "-14.0 LUFS");
        assert_eq!(signed_db(-0.01), "0.0 dB");
        assert_eq!(signed_db(1.26), "+1.3 dB");
        assert_eq!(khz(44_100), "44.1 kHz");
        assert_eq!(khz(48_000), "48 kHz");
    }
}
