//! `claims export`: the ledger as a bundle (docs/FORMAT.md, "Bundles"): a header naming its
//! origin, every stored entry byte for byte, one per line, and the checkpoint of the last one,
//! signed with `--sign`.

use crate::cli::ExportArgs;
use crate::ctx::Ctx;
use crate::error::{CliResult, Exit};
use crate::progress::Progress;
use claimledger_core::Seq;
use claimledger_store::{checkpoint_line, header_line, Storage};
use std::io::Write;
use std::ops::ControlFlow;

pub fn cmd_export<S: Storage>(ctx: &mut Ctx<'_, S>, args: ExportArgs) -> CliResult<Exit> {
    let Ctx { env, io, ledgers } = ctx;
    let ledger = ledgers.read(env, io.err)?;
    // The checkpoint first: a key that cannot sign fails before anything is written.
    let checkpoint = super::checkpoint::checkpoint_text(io, ledger, args.sign.as_deref())?;
    let progress = Progress::new(io, false, ledger.head().count, "exporting", "entries");
    let mut out = std::io::BufWriter::with_capacity(1 << 20, &mut *io.out);
    writeln!(out, "{}", header_line(&ledger.origin()?))?;
    let mut failed = None;
    ledger.scan_entries(Seq::FIRST, &mut |seq, bytes| match out
        .write_all(bytes)
        .and_then(|()| out.write_all(b"\n"))
    {
        Ok(()) => {
            if seq.0 % 4096 == 0 {
                progress.set(seq.0);
            }
            ControlFlow::Continue(())
        }
        Err(e) => {
            failed = Some(e);
            ControlFlow::Break(())
        }
    })?;
    if let Some(error) = failed {
        return Err(error.into());
    }
    writeln!(out, "{}", checkpoint_line(&checkpoint))?;
    out.flush()?;
    Ok(Exit::SUCCESS)
}
