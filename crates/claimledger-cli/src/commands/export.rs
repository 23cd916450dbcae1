use crate::env::Env;
use crate::error::CliResult;
use claimledger_core::Seq;
use std::io::Write;
use std::ops::ControlFlow;
use std::process::ExitCode;

pub fn cmd_export(env: &Env) -> CliResult<ExitCode> {
    let ledger = env.open()?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
    let mut failed = None;
    ledger.scan_entries(Seq::FIRST, &mut |_, bytes| match out
        .write_all(bytes)
        .and_then(|()| out.write_all(b"\n"))
    {
        Ok(()) => ControlFlow::Continue(()),
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
