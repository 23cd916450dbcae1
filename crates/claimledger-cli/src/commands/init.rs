use crate::env::Env;
use crate::error::CliResult;
use claimledger_store::SledStorage;
use std::process::ExitCode;

pub fn cmd_init(env: &Env) -> CliResult<ExitCode> {
    SledStorage::create(&env.ledger_dir, env.wait)?;
    env.say(format_args!(
        "created an empty ledger in {}",
        env.ledger_dir.display()
    ));
    Ok(ExitCode::SUCCESS)
}
