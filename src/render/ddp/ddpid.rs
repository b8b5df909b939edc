//! DDPID, the 128-byte record that identifies a DDP fileset and its level.
//!
//! Layout (DDP 2.00; offsets from the DDPID loaders of suntriprecords/ddpLib,
//! `ddp/common/AbstractDdpIdLoader.java` and `ddp/v20/DdpIdLoader.java`, matching the public
//! description in ddp-reverse-eng `spec/ddp2.md` section 3 and the Sonoris sample it dumps):
//!
//! | offset | width | field                                  | written          |
//! |--------|-------|----------------------------------------|------------------|
//! | 0      | 8     | level                                  | `DDP 2.00`       |
//! | 8      | 13    | UPC/EAN                                | the disc's code  |
//! | 21     | 8     | map stream start (MSS)                 | blank (files)    |
//! | 29     | 8     | reserved (MSL)                         | blank            |
//! | 37     | 1     | media number                           | blank (one)      |
//! | 38     | 48    | master ID, not on the disc             | blank            |
//! | 86     | 1     | book specifier                         | blank (Red Book) |
//! | 87     | 2     | type of disc                           | `CD`             |
//! | 89     | 4     | sides and layers (DVD only)            | blank            |
//! | 93     | 2+33  | user text length and text              | blank            |

use super::fields::{put_text, text};

pub const FILE_NAME: &str = "DDPID";
pub const LEN: usize = 128;
pub const LEVEL: &str = "DDP 2.00";

pub const LEVEL_AT: (usize, usize) = (0, 8);
pub const UPC_AT: (usize, usize) = (8, 13);
pub const MASTER_ID_AT: (usize, usize) = (38, 48);
pub const DISC_TYPE_AT: (usize, usize) = (87, 2);

/// The DDPID record of an audio CD with this UPC/EAN (already validated: 13 digits).
pub fn encode(upc_ean: Option<&str>) -> [u8; LEN] {
    let mut r = [b' '; LEN];
    put_text(&mut r, LEVEL_AT.0, LEVEL_AT.1, LEVEL);
    put_text(&mut r, UPC_AT.0, UPC_AT.1, upc_ean.unwrap_or(""));
    put_text(&mut r, DISC_TYPE_AT.0, DISC_TYPE_AT.1, "CD");
    r
}

/// What a reader takes from DDPID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DdpId {
    /// e.g. "DDP 2.00".
    pub level: String,
    pub upc_ean: Option<String>,
    pub master_id: Option<String>,
    /// "CD" (or "DV" for a DVD image, which this reader does not go on to read).
    pub disc_type: Option<String>,
}

/// Parses a DDPID record; `Err` says what is wrong.
pub fn decode(bytes: &[u8]) -> Result<DdpId, String> {
    if bytes.len() < LEN {
        return Err(format!("{} bytes; DDPID is a 128-byte record", bytes.len()));
    }
    let level = text(bytes, LEVEL_AT.0, LEVEL_AT.1).unwrap_or_default();
    if !level.starts_with("DDP 2.") {
        return Err(format!(
            "level {level:?}; this reader reads DDP 2.00 (\"DDP 2.00\" at byte 0)"
        ));
    }
    Ok(DdpId {
        level,
        upc_ean: text(bytes, UPC_AT.0, UPC_AT.1),
        master_id: text(bytes, MASTER_ID_AT.0, MASTER_ID_AT.1),
        disc_type: text(bytes, DISC_TYPE_AT.0, DISC_TYPE_AT.1),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ddpid_round_trips() {
        let r = encode(Some("4006381333931"));
        assert_eq!(&r[0..21], b"DDP 2.004006381333931");
        assert_eq!(&r[87..89], b"CD");
        assert!(r[21..87].iter().all(|&b| b == b' '));
        let id = decode(&r).unwrap();
        assert_eq!(id.level, "DDP 2.00");
        assert_eq!(id.upc_ean.as_deref(), Some("4006381333931"));
        assert_eq!(id.disc_type.as_deref(), Some("CD"));
        assert_eq!(decode(&encode(None)).unwrap().upc_ean, None);
        assert!(decode(b"DDP 1.01").is_err());
    }
}
