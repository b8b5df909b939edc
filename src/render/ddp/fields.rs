//! Fixed-width ASCII fields, the encoding of every DDPID, DDPMS and PQ descriptor record.
//!
//! Text is left-aligned and padded with spaces; numbers are decimal digits, right-aligned; a field
//! that is not set is all spaces (the DVD Forum's description of the DDVMS packet, and the
//! records of the public readers: suntriprecords/ddpLib `AbstractLoader`, ddp-reverse-eng
//! `spec/ddp2.md` section 2). Readers trim and accept both zero and space padding, since both
//! occur in real filesets.

/// Writes `text` left-aligned into `record[offset..offset + width]`, padding with spaces.
///
/// Callers pass text they have validated to fit (fixed codes, ISRCs, file names); a longer one
/// is a bug in this module, caught in debug builds.
pub(crate) fn put_text(record: &mut [u8], offset: usize, width: usize, text: &str) {
    debug_assert!(
        text.is_ascii() && text.len() <= width,
        "{text:?} in {width}"
    );
    let field = &mut record[offset..offset + width];
    field.fill(b' ');
    for (slot, byte) in field.iter_mut().zip(text.bytes()) {
        *slot = byte;
    }
}

/// Writes `value` right-aligned in `width` decimal digits, padded with zeros.
pub(crate) fn put_zero_padded(record: &mut [u8], offset: usize, width: usize, value: u64) {
    let digits = format!("{value:0width$}");
    debug_assert!(digits.len() == width, "{value} in {width}");
    put_text(record, offset, width, &digits);
}

/// Writes `value` right-aligned in `width` decimal digits, padded with spaces.
pub(crate) fn put_space_padded(record: &mut [u8], offset: usize, width: usize, value: u64) {
    let digits = format!("{value:>width$}");
    debug_assert!(digits.len() == width, "{value} in {width}");
    put_text(record, offset, width, &digits);
}

/// The trimmed text of a field; `None` when it is blank.
pub(crate) fn text(record: &[u8], offset: usize, width: usize) -> Option<String> {
    let raw = String::from_utf8_lossy(&record[offset..offset + width]);
    let trimmed = raw.trim_matches(|c: char| c == ' ' || c == '\0');
    (!trimmed.is_empty()).then(|| trimmed.to_string())
}

/// The number in a field; `Ok(None)` when it is blank, `Err` with the raw text when it is not a
/// decimal number.
pub(crate) fn number(record: &[u8], offset: usize, width: usize) -> Result<Option<u64>, String> {
    match text(record, offset, width) {
        None => Ok(None),
        Some(t) => t.parse::<u64>().map(Some).map_err(|_| t),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_pad_as_the_records_expect() {
        let mut r = [b'x'; 16];
        put_text(&mut r, 0, 4, "AB");
        put_zero_padded(&mut r, 4, 4, 42);
        put_space_padded(&mut r, 8, 4, 150);
        assert_eq!(&r[..12], b"AB  0042 150");
        assert_eq!(text(&r, 0, 4).as_deref(), Some("AB"));
        assert_eq!(number(&r, 4, 4), Ok(Some(42)));
        assert_eq!(number(&r, 8, 4), Ok(Some(150)));
        put_text(&mut r, 12, 4, "");
        assert_eq!(text(&r, 12, 4), None);
        assert_eq!(number(&r, 12, 4), Ok(None));
        assert_eq!(number(&r, 0, 4), Err("AB".to_string()));
    }
}
