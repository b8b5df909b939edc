//! CHECKSUM.MD5, the digests a replication plant checks the fileset against on arrival.
//!
//! Checksums are not part of DDP; plants and tools use several formats (ddp-reverse-eng
//! `docs/research.md` section 1). This one is md5sum's (GNU coreutils): one line per file, the
//! digest in lower-case hex, a space, `*` for binary mode, the file name, LF; `md5sum -c`
//! checks it, and cue2ddp writes the same. The files are listed in the order cue2ddp lists
//! them: DDPID, DDPMS, CD-TEXT, PQ descriptor, image.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use md5::{Digest, Md5};

use super::error::DdpError;
use super::image::hex;

pub const FILE_NAME: &str = "CHECKSUM.MD5";

/// The MD5 of a file's bytes on disk, hex.
pub fn md5_file(path: &Path) -> Result<String, DdpError> {
    let io = |e| DdpError::io(path, e);
    let mut file = File::open(path).map_err(io)?;
    let mut md5 = Md5::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        md5.update(&buf[..n]);
    }
    Ok(hex(&md5.finalize()))
}

/// The MD5 of bytes in memory, hex.
pub fn md5_bytes(bytes: &[u8]) -> String {
    hex(&Md5::digest(bytes))
}

/// The file's text for `(name, md5)` pairs.
pub fn encode(entries: &[(String, String)]) -> String {
    entries
        .iter()
        .map(|(name, md5)| format!("{md5} *{name}\n"))
        .collect()
}

/// Parses md5sum lines (binary `*name` or text ` name` mode; blank lines and `#` comments are
/// skipped).
pub fn decode(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = || format!("line {} is not \"<md5> *<file>\": {line:?}", i + 1);
        let (digest, rest) = line.split_once(' ').ok_or_else(bad)?;
        let name = rest
            .strip_prefix('*')
            .or_else(|| rest.strip_prefix(' '))
            .ok_or_else(bad)?;
        if digest.len() != 32 || !digest.bytes().all(|b| b.is_ascii_hexdigit()) || name.is_empty() {
            return Err(bad());
        }
        out.push((name.to_string(), digest.to_ascii_lowercase()));
    }
    Ok(out)
}

/// One line of CHECKSUM.MD5 checked against the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChecksumCheck {
    pub file: String,
    pub expected: String,
    /// The file's MD5 now; `None` when it is missing or unreadable.
    pub actual: Option<String>,
}

impl ChecksumCheck {
    pub fn ok(&self) -> bool {
        self.actual.as_deref() == Some(self.expected.as_str())
    }
}

/// Checks every file CHECKSUM.MD5 lists in `dir`.
pub fn verify(dir: &Path, entries: &[(String, String)]) -> Vec<ChecksumCheck> {
    entries
        .iter()
        .map(|(name, expected)| {
            let safe = !name.contains(['/', '\\']) && name != "..";
            ChecksumCheck {
                file: name.clone(),
                expected: expected.clone(),
                actual: safe.then(|| md5_file(&dir.join(name)).ok()).flatten(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_and_md5sum_lines() {
        // RFC 1321's test suite.
        assert_eq!(md5_bytes(b""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(md5_bytes(b"abc"), "900150983cd24fb0d6963f7d28e17f72");
        let entries = vec![("DDPID".to_string(), md5_bytes(b"abc"))];
        let text = encode(&entries);
        assert_eq!(text, "900150983cd24fb0d6963f7d28e17f72 *DDPID\n");
        assert_eq!(decode(&text).unwrap(), entries);
        assert_eq!(
            decode("900150983CD24FB0D6963F7D28E17F72  DDPID\r\n").unwrap(),
            entries
        );
        assert!(decode("abc *DDPID").is_err());
    }
}
