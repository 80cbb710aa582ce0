//! The checkpoint directory: atomic replacement of its one file, and reading it back.

use super::Checkpoint;
use std::fs::{self, File};
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// The checkpoint in a checkpoint directory.
pub const FILE_NAME: &str = "checkpoint.sbck";
/// The next checkpoint while it is being written.
pub const TEMP_NAME: &str = "checkpoint.sbck.tmp";

/// Fault injection for the kill test (tests/tests/checkpoint.rs): `PHASE:N` stops the N-th
/// checkpoint write of the process at PHASE — `partial` (half the new file written and flushed),
/// `synced` (new file complete and durable, not yet renamed) or `renamed` (renamed, the
/// directory not yet flushed) — prints one line on stderr and waits there to be killed.
pub const PAUSE_ENV: &str = "SAMEBITS_CHECKPOINT_PAUSE";

/// Checkpoint writes by this process, counting from 1, for [`PAUSE_ENV`].
static WRITES: AtomicU64 = AtomicU64::new(0);

/// Waits forever at `phase` of write `n` when [`PAUSE_ENV`] asks for it.
fn pause_point(phase: &str, n: u64) {
    let Ok(wanted) = std::env::var(PAUSE_ENV) else { return };
    if wanted != format!("{phase}:{n}") {
        return;
    }
    eprintln!("samebits: paused in checkpoint write {n} ({phase}) by {PAUSE_ENV}");
    loop {
        std::thread::park();
    }
}

/// Replaces `dir`'s checkpoint with `bytes`: written to [`TEMP_NAME`], flushed to the disk,
/// renamed over [`FILE_NAME`], and the directory flushed so that the rename is durable too.
/// Until the rename the old checkpoint is untouched.
pub fn write_atomic(dir: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let n = WRITES.fetch_add(1, Ordering::Relaxed) + 1;
    let temp = dir.join(TEMP_NAME);
    let mut file = File::create(&temp)?;
    let half = bytes.len() / 2;
    file.write_all(&bytes[..half])?;
    file.sync_data()?;
    pause_point("partial", n);
    file.write_all(&bytes[half..])?;
    file.sync_all()?;
    drop(file);
    pause_point("synced", n);
    fs::rename(&temp, dir.join(FILE_NAME))?;
    pause_point("renamed", n);
    sync_dir(dir)
}

/// Makes a rename in `dir` durable (POSIX: fsync on the directory). Windows has no such call;
/// its rename (MoveFileEx with MOVEFILE_REPLACE_EXISTING) is what std uses.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Makes `dir` ready for a new run's checkpoints: created when missing; refused, and left as
/// it is, when it already holds a checkpoint (a run to resume, not to overwrite).
pub fn prepare_dir(dir: &Path) -> Result<(), String> {
    if dir.exists() && !dir.is_dir() {
        return Err(format!("--checkpoint {}: not a directory", dir.display()));
    }
    fs::create_dir_all(dir).map_err(|e| format!("cannot create checkpoint directory {}: {e}", dir.display()))?;
    let file = dir.join(FILE_NAME);
    if file.exists() {
        let what = match fs::read(&file).map(|b| Checkpoint::decode(&b)) {
            Ok(Ok(c)) => format!("a checkpoint of step {} of {}", c.steps, c.total_steps()),
            Ok(Err(e)) => format!("{FILE_NAME}, which cannot be resumed ({e})"),
            Err(e) => format!("{FILE_NAME}, which cannot be read ({e})"),
        };
        return Err(format!(
            "{} already holds {what}; it is left as it is: continue it with 'samebits resume {}' or give another directory",
            dir.display(),
            dir.display()
        ));
    }
    Ok(())
}

/// Reads and checks the checkpoint in `dir`; the error is one line naming the file.
pub fn load(dir: &Path) -> Result<Checkpoint, String> {
    if !dir.is_dir() {
        return Err(format!("cannot resume {}: no such directory", dir.display()));
    }
    let file = dir.join(FILE_NAME);
    if !file.exists() {
        let why = if dir.join(TEMP_NAME).exists() {
            "the run was stopped while writing its first checkpoint; start it again with 'samebits train --checkpoint'"
        } else {
            "it holds no checkpoint (written by 'samebits train --checkpoint DIR')"
        };
        return Err(format!("cannot resume {}: {why}", dir.display()));
    }
    let bytes = fs::read(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    Checkpoint::decode(&bytes).map_err(|e| format!("{}: {e}", file.display()))
}
