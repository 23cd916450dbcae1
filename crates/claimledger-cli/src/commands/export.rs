//! `claims export`: the ledger as a bundle (docs/FORMAT.md, "Bundles"): a header naming its
//! origin, every stored entry byte for byte, one per line, and the checkpoint of the last one,
//! signed with `--sign`.

use crate::cli::ExportArgs;
use crate::env::Env;
use crate::error::CliResult;
use crate::progress::Progress;
use claimledger_core::Seq;
use claimledger_store::{checkpoint_line, header_line};
use std::io::Write;
use std::ops::ControlFlow;
use std::process::ExitCode;

pub fn cmd_export(env: &Env, args: ExportArgs) -> CliResult<ExitCode> {
    let ledger = env.open()?;
    // The checkpoint first: a key that cannot sign fails before anything is written.
    let checkpoint = super::checkpoint::checkpoint_text(&ledger, args.sign.as_deref())?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
    writeln!(out, "{}", header_line(&ledger.origin()?))?;
    let mut failed = None;
    let progress = Progress::new(env.quiet, ledger.head().count, "exporting", "entries");
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
    Ok(ExitCode::SUCCESS)
}
