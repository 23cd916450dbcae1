use crate::env::Env;
use crate::error::CliResult;
use crate::progress::Progress;
use claimledger_core::Seq;
use std::io::Write;
use std::ops::ControlFlow;
use std::process::ExitCode;

pub fn cmd_export(env: &Env) -> CliResult<ExitCode> {
    let ledger = env.open()?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
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
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
