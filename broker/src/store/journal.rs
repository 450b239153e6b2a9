//! The store's own journal: one file, `tern.journal`, to which every commit appends one frame
//! with a single write. It is what makes a commit durable; the tables (fjall) catch up later,
//! from the overlay (`overlay.rs`), and only with what is still there by then.
//!
//! Why a journal of our own in front of fjall: most messages a kept session holds are gone
//! again within milliseconds (its client acknowledges them), yet each had to be written for
//! the acknowledgement given to its publisher. Written into fjall, each costs a record in its
//! journal, a node in its memtable (a skiplist) and later a place in a table, and its removal
//! as much again; appended here, it costs its bytes, and its removal a few more. The tables
//! only ever see what outlives a journal's worth of writes (`benches/RESULTS.md`).
//!
//! The file: a header (`MAGIC`, then the journal's epoch, a u64 that grows at every rotation),
//! then frames: the payload's length (u32), its checksum (xxh3 seeded with the epoch, so a
//! frame left over from an earlier epoch never reads as one of this one), the payload. A crash
//! in the middle of an append leaves a frame that does not check; reading stops there, and
//! that commit was never acknowledged (`commit` had not returned). A rotation (the tables hold
//! everything, made durable first) empties the file and starts the next epoch.

use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use xxhash_rust::xxh3::xxh3_64_with_seed;

/// What the file starts with.
const MAGIC: &[u8; 8] = b"TERNJNL1";
/// The header: MAGIC and the epoch.
pub const HEADER: usize = 16;
/// A frame's header: the payload's length and its checksum.
pub const FRAME_HEADER: usize = 12;
/// The largest payload a frame may say it has: a length past it is damage, not a frame.
const MAX_FRAME: usize = 1 << 30;

/// The journal file, open for appending.
pub struct Journal {
    path: PathBuf,
    file: File,
    epoch: u64,
    /// Where the next frame goes: the file's length.
    len: u64,
}

/// The frames of a journal, read one at a time from the start (a journal may be larger than
/// the memory one should take for it).
pub struct Frames {
    reader: BufReader<File>,
    epoch: u64,
    size: u64,
    /// Where the last whole frame read ends.
    end: u64,
    payload: Vec<u8>,
}

impl Frames {
    /// The next whole frame's payload, or `None` at the end or at the first frame that does
    /// not check (a commit cut short by a crash).
    pub fn next_frame(&mut self) -> Option<&[u8]> {
        let mut header = [0u8; FRAME_HEADER];
        self.reader.read_exact(&mut header).ok()?;
        let len = u32::from_le_bytes(header[..4].try_into().expect("4 bytes")) as usize;
        let sum = u64::from_le_bytes(header[4..].try_into().expect("8 bytes"));
        let next = self.end + (FRAME_HEADER + len) as u64;
        if len > MAX_FRAME || next > self.size {
            return None;
        }
        // Kept for its allocation, unless a frame made it large.
        if self.payload.capacity() > 1 << 20 {
            self.payload = Vec::new();
        }
        self.payload.resize(len, 0);
        self.reader.read_exact(&mut self.payload).ok()?;
        if xxh3_64_with_seed(&self.payload, self.epoch) != sum {
            return None;
        }
        self.end = next;
        Some(&self.payload)
    }
}

impl Journal {
    /// Opens (or creates) the journal in `dir`. Its frames are read with [`Journal::frames`],
    /// and appending starts after the last whole one ([`Journal::resume`]).
    pub fn open(dir: &Path) -> Result<Journal, String> {
        let path = dir.join("tern.journal");
        let shown = path.display();
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| format!("{shown}: cannot open the journal: {e}"))?;
        let size = file
            .metadata()
            .map_err(|e| format!("{shown}: cannot read the journal: {e}"))?
            .len();
        let mut journal = Journal {
            path: path.clone(),
            file,
            epoch: 0,
            len: HEADER as u64,
        };
        if size == 0 {
            journal.rotate(1, false)?;
            return Ok(journal);
        }
        let mut header = [0u8; HEADER];
        let read = journal.file.read_exact(&mut header);
        if read.is_err() || &header[..8] != MAGIC {
            return Err(format!(
                "{shown}: not a Tern journal (its header is damaged); the store cannot be \
                 opened: move the data directory aside to start afresh, keeping it for inspection"
            ));
        }
        journal.epoch = u64::from_le_bytes(header[8..].try_into().expect("8 bytes"));
        Ok(journal)
    }

    /// Its frames, from the first.
    pub fn frames(&self) -> Result<Frames, String> {
        let mut file = self
            .file
            .try_clone()
            .map_err(|e| self.error("cannot read the journal", e))?;
        let size = file
            .metadata()
            .map_err(|e| self.error("cannot read the journal", e))?
            .len();
        file.seek(SeekFrom::Start(HEADER as u64))
            .map_err(|e| self.error("cannot read the journal", e))?;
        Ok(Frames {
            reader: BufReader::with_capacity(1 << 20, file),
            epoch: self.epoch,
            size,
            end: HEADER as u64,
            payload: Vec::new(),
        })
    }

    /// Appends after the last whole frame `frames` read; returns how many bytes past it are
    /// left out (a commit cut short by a crash, overwritten by the next append).
    pub fn resume(&mut self, frames: Frames) -> Result<u64, String> {
        self.len = frames.end;
        self.file
            .seek(SeekFrom::Start(self.len))
            .map_err(|e| self.error("cannot seek", e))?;
        Ok(frames.size - frames.end)
    }

    fn error(&self, what: &str, e: std::io::Error) -> String {
        super::with_advice(format!("{}: {what}: {e}", self.path.display()))
    }

    /// The epoch: what a frame's checksum is seeded with.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// The file's length in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Appends `frame`, whose first [`FRAME_HEADER`] bytes are left for the header, with one
    /// write. The bytes are in the OS's hands when this returns: a crash of the process
    /// cannot lose them.
    pub fn append(&mut self, frame: &mut [u8]) -> Result<(), String> {
        let payload = &frame[FRAME_HEADER..];
        let len = u32::try_from(payload.len())
            .ok()
            .filter(|&n| (n as usize) <= MAX_FRAME)
            .ok_or_else(|| format!("{}: a commit too large to write", self.path.display()))?;
        let sum = xxh3_64_with_seed(payload, self.epoch);
        frame[..4].copy_from_slice(&len.to_le_bytes());
        frame[4..12].copy_from_slice(&sum.to_le_bytes());
        if let Err(e) = self.file.write_all(frame) {
            // Whatever part of the frame reached the file does not check: cut it off, so
            // that the next frame follows a whole one.
            let _ = self.file.set_len(self.len);
            let _ = self.file.seek(SeekFrom::Start(self.len));
            return Err(self.error("cannot write the journal", e));
        }
        self.len += frame.len() as u64;
        Ok(())
    }

    /// Makes what was appended durable against a power loss.
    pub fn sync(&mut self) -> Result<(), String> {
        self.file
            .sync_data()
            .map_err(|e| self.error("cannot sync the journal", e))
    }

    /// Empties the journal and starts epoch `epoch`, once the tables hold everything it held
    /// (made durable first, if `sync`). With `sync`, the new header is durable before any
    /// frame of the new epoch is written, so a power loss cannot bring back the old frames
    /// after new ones.
    pub fn rotate(&mut self, epoch: u64, sync: bool) -> Result<(), String> {
        let mut header = [0u8; HEADER];
        header[..8].copy_from_slice(MAGIC);
        header[8..].copy_from_slice(&epoch.to_le_bytes());
        self.file
            .set_len(0)
            .and_then(|()| self.file.seek(SeekFrom::Start(0)).map(drop))
            .and_then(|()| self.file.write_all(&header))
            .map_err(|e| self.error("cannot rotate the journal", e))?;
        if sync {
            self.file
                .sync_all()
                .map_err(|e| self.error("cannot sync the journal", e))?;
        }
        self.epoch = epoch;
        self.len = HEADER as u64;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Opens the journal in `dir`: it, its frames, and the bytes left out.
    fn open(dir: &Path) -> (Journal, Vec<Vec<u8>>, u64) {
        let mut j = Journal::open(dir).unwrap();
        let mut frames = j.frames().unwrap();
        let mut read = Vec::new();
        while let Some(f) = frames.next_frame() {
            read.push(f.to_vec());
        }
        let torn = j.resume(frames).unwrap();
        (j, read, torn)
    }

    fn frame(payload: &[u8]) -> Vec<u8> {
        let mut f = vec![0u8; FRAME_HEADER];
        f.extend_from_slice(payload);
        f
    }

    #[test]
    fn frames_come_back_in_order_and_a_torn_tail_is_left_out() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (mut j, frames, _) = open(dir.path());
            assert!(frames.is_empty());
            j.append(&mut frame(b"one")).unwrap();
            j.append(&mut frame(b"two")).unwrap();
        }
        // A crash in the middle of the third append: half a frame.
        let path = dir.path().join("tern.journal");
        let mut third = frame(b"three, cut short");
        third[..4].copy_from_slice(&16u32.to_le_bytes());
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(&third[..20]).unwrap();
        drop(f);
        let (mut j, frames, torn) = open(dir.path());
        assert_eq!(frames, vec![b"one".to_vec(), b"two".to_vec()]);
        assert_eq!(torn, 20);
        // The next frame follows the last whole one.
        j.append(&mut frame(b"four")).unwrap();
        drop(j);
        let (_, frames, _) = open(dir.path());
        assert_eq!(frames.len(), 3);
        assert_eq!(frames[2], b"four");
    }

    #[test]
    fn frames_of_an_earlier_epoch_are_not_read_after_a_rotation() {
        let dir = tempfile::tempdir().unwrap();
        let (mut j, _, _) = open(dir.path());
        for _ in 0..4 {
            j.append(&mut frame(b"old frame")).unwrap();
        }
        let old = std::fs::read(dir.path().join("tern.journal")).unwrap();
        let epoch = j.epoch();
        j.rotate(epoch + 1, true).unwrap();
        j.append(&mut frame(b"new frame")).unwrap();
        drop(j);
        // A rotation that a power loss half undid: the old frames are back after the new one,
        // aligned on a frame boundary.
        let mut bytes = std::fs::read(dir.path().join("tern.journal")).unwrap();
        let new_len = bytes.len();
        bytes.extend_from_slice(&old[new_len..]);
        std::fs::write(dir.path().join("tern.journal"), &bytes).unwrap();
        let (j, frames, _) = open(dir.path());
        assert_eq!(j.epoch(), epoch + 1);
        assert_eq!(frames, vec![b"new frame".to_vec()]);
    }

    #[test]
    fn a_file_that_is_not_a_journal_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("tern.journal"), b"something else entirely").unwrap();
        let e = Journal::open(dir.path()).err().unwrap();
        assert!(
            e.contains("tern.journal") && e.contains("not a Tern journal"),
            "{e}"
        );
    }
}
