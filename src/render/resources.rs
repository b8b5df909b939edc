//! What a render needs from the machine: room on the output disk, checked before anything
//! is written, and the memory it took, for the report.

use std::path::Path;

use super::error::RenderError;
use super::formats::Format;

/// Room left for the file system's own bookkeeping and the report files.
const DISK_MARGIN_BYTES: u64 = 16 << 20;

/// The most `format` can take on disk for `frames` frames of `channels` channels: exact for
/// WAV (plus its header and tags), the constant bit rate for MP3, and uncompressed size for
/// FLAC (it only ever compresses music, and it falls back to verbatim frames when it cannot).
pub fn bytes_needed(format: Format, frames_at_rate: u64, channels: u64) -> u64 {
    match format {
        Format::Wav { bits, .. } => frames_at_rate * channels * (bits as u64 / 8) + 64 * 1024,
        Format::Mp3 => {
            let seconds = frames_at_rate.div_ceil(super::formats::MP3_RATE as u64);
            seconds * 320_000 / 8 + 64 * 1024
        }
        Format::Flac => frames_at_rate * channels * 3 + 64 * 1024,
    }
}

/// Free bytes for an unprivileged writer on the file system that holds `dir` (or its
/// nearest existing parent), from `statvfs(3)`. `None` where that cannot be asked.
pub fn available_bytes(dir: &Path) -> Option<u64> {
    let mut probe = dir;
    while !probe.exists() {
        probe = probe.parent()?;
    }
    let probe = if probe.as_os_str().is_empty() {
        Path::new(".")
    } else {
        probe
    };
    statvfs_available(probe)
}

#[cfg(unix)]
fn statvfs_available(path: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c_path = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    let mut stat = std::mem::MaybeUninit::<libc::statvfs>::zeroed();
    // SAFETY: `c_path` is a valid NUL-terminated string and `stat` points to writable
    // memory of the right type; statvfs only writes into it.
    let rc = unsafe { libc::statvfs(c_path.as_ptr(), stat.as_mut_ptr()) };
    if rc != 0 {
        return None;
    }
    // SAFETY: statvfs returned 0, so it filled the struct.
    let stat = unsafe { stat.assume_init() };
    // The field types differ between platforms (32 or 64 bits); the casts are for the others.
    #[allow(clippy::unnecessary_cast)]
    Some(stat.f_bavail as u64 * stat.f_frsize as u64)
}

#[cfg(not(unix))]
fn statvfs_available(_path: &Path) -> Option<u64> {
    None
}

/// Refuses the render, before it writes, when `needed` bytes will not fit in `dir`.
pub fn check_room(dir: &Path, needed: u64) -> Result<(), RenderError> {
    match available_bytes(dir) {
        Some(free) if free < needed + DISK_MARGIN_BYTES => Err(RenderError::NoRoom {
            path: dir.to_path_buf(),
            needed_mb: (needed + DISK_MARGIN_BYTES).div_ceil(1 << 20),
            free_mb: free >> 20,
        }),
        _ => Ok(()),
    }
}

/// The process's peak resident memory so far, in bytes (`VmHWM` of /proc/self/status on
/// Linux); `None` elsewhere.
pub fn peak_memory_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_room_and_memory() {
        let wav = bytes_needed(
            Format::Wav {
                rate: 44_100,
                bits: 16,
            },
            44_100 * 60,
            2,
        );
        assert_eq!(wav, 44_100 * 60 * 4 + 64 * 1024);
        let mp3 = bytes_needed(Format::Mp3, 44_100 * 60, 2);
        assert_eq!(mp3, 60 * 40_000 + 64 * 1024);
        let free = available_bytes(&std::env::temp_dir().join("not/yet/made")).unwrap();
        assert!(free > 0);
        assert!(check_room(&std::env::temp_dir(), 1).is_ok());
        let err = check_room(&std::env::temp_dir(), u64::MAX / 4).unwrap_err();
        assert!(err.to_string().contains("MB"), "{err}");
        assert!(peak_memory_bytes().unwrap() > 1 << 20);
    }
}
