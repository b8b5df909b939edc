//! The stems' section of `report.html`: the checks, then one row per stem with its offset,
//! its stage and its loudness before and after.

use std::fmt::Write as _;

use super::StemsRecord;
use crate::render::report::html::{escape, file_name, num};

/// Appends the section (nothing when the render had no stems).
pub fn section(h: &mut String, stems: Option<&StemsRecord>) {
    let Some(s) = stems else {
        return;
    };
    let null = num(s.null_test.residual_db, 1, "dB");
    let _ = write!(
        h,
        "<h2>Stems</h2>\n<p class=\"sub\">Mastered: {}. Null test (stem sum \u{2212} mix, \
         relative to the mix): {null}, limit {:.0} dB. Loudness of the mix {}; of the stem sum \
         {} before the stem stages, {} after.</p>\n",
        escape(&s.mastered_signal),
        s.null_test.limit_db,
        num(s.mix_lufs, 1, "LUFS"),
        num(s.sum_lufs_before, 1, "LUFS"),
        num(s.sum_lufs_after, 1, "LUFS"),
    );
    h.push_str(
        "<div class=\"scroll\"><table>\n<tr><th>Check</th><th>Result</th><th>Detail</th></tr>\n",
    );
    for c in &s.checks {
        let badge = if c.passed {
            "<span class=\"pass\">pass</span>"
        } else {
            "<span class=\"fail\">flag</span>"
        };
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{badge}</td><td>{}</td></tr>",
            escape(&c.name),
            escape(&c.detail)
        );
    }
    h.push_str("</table></div>\n");
    h.push_str(
        "<div class=\"scroll\"><table>\n<tr><th>Stem</th><th>File</th><th>Offset</th>\
         <th>Correlation (peak/RMS)</th><th>Stage</th><th>Gain</th><th>Before</th><th>Share before</th>\
         <th>After</th><th>Share after</th></tr>\n",
    );
    for r in &s.stems {
        let offset = match (r.offset_samples, r.offset_ms) {
            (Some(n), Some(ms)) => format!(
                "{n} samples ({ms:+.2} ms){}",
                if r.offset_compensated {
                    ", compensated"
                } else {
                    ""
                }
            ),
            _ => "\u{2013}".to_string(),
        };
        let stage = match (r.stage_enabled, r.stage_active) {
            (false, _) => "off",
            (true, false) => "neutral",
            (true, true) => "on",
        };
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td class=\"file\">{}</td><td class=\"n\">{}</td>\
             <td class=\"n\">{} ({})</td><td>{stage}</td><td class=\"n\">{:+.1} dB</td>\
             <td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
             <td class=\"n\">{}</td></tr>",
            r.role.name(),
            escape(&file_name(&r.path)),
            escape(&offset),
            num(r.correlation, 2, ""),
            num(r.peak_prominence, 0, ""),
            r.gain_db,
            num(r.lufs_before, 1, "LUFS"),
            num(r.share_before_pct, 1, "%"),
            num(r.lufs_after, 1, "LUFS"),
            num(r.share_after_pct, 1, "%"),
        );
    }
    h.push_str(
        "</table></div>\n<p class=\"sub\">Loudness of each stem alone (ITU-R BS.1770-4); share: \
         its loudness power over the sum of the stems' powers. Each stage runs EQ, compressor \
         and gain from <code>[stems.&lt;role&gt;]</code>; <code>enabled = false</code> turns it \
         off.</p>\n",
    );
}
