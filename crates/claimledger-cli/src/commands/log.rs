use crate::cli::LogArgs;
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult, Exit};
use crate::output;
use claimledger_core::{ClaimId, Entry, EntryHash, Event, Seq};
use claimledger_store::Storage;
use std::collections::HashMap;
use std::io::Write;
use std::ops::ControlFlow;

/// The most claim keys `log` keeps looked up at once.
const KEY_CACHE_MAX: usize = 65_536;

pub fn cmd_log<S: Storage>(ctx: &mut Ctx<'_, S>, args: LogArgs) -> CliResult<Exit> {
    let Ctx { env, io, ledgers } = ctx;
    if args.from == 0 {
        return Err(CliError::input("--from 0: entries are numbered from 1"));
    }
    let ledger = ledgers.read(env, io.err)?;
    let mut out = std::io::BufWriter::new(&mut *io.out);
    let limit = args.limit.unwrap_or(u64::MAX);
    let mut result: CliResult = Ok(());
    let mut shown = 0u64;
    // The keys of claims revised in the entries shown (a revision's entry names its claim by
    // id only), looked up once each; bounded, so that a long log cannot grow it without end.
    let mut keys: HashMap<ClaimId, Option<String>> = HashMap::new();
    if !args.json && limit > 0 {
        writeln!(
            out,
            "{:>8}  {:<16}  {:<18}  {:<36}  {:>3}  RECORDED",
            "SEQ", "HASH", "TYPE", "CLAIM", "REV"
        )?;
    }
    ledger.scan_entries(Seq(args.from), &mut |seq, bytes| {
        if shown >= limit {
            return ControlFlow::Break(());
        }
        shown += 1;
        let hash = EntryHash::of(bytes);
        let written = if args.json {
            // The stored bytes themselves, not a re-serialisation that could reorder them.
            let entry: &serde_json::value::RawValue = match std::str::from_utf8(bytes)
                .map_err(|e| e.to_string())
                .and_then(|text| serde_json::from_str(text).map_err(|e| e.to_string()))
            {
                Ok(entry) => entry,
                Err(e) => {
                    result = Err(CliError::integrity(format!(
                        "entry {seq} does not decode ({e}); run `claims verify`"
                    )));
                    return ControlFlow::Break(());
                }
            };
            writeln!(
                out,
                r#"{{"seq":{},"hash":"{}","entry":{}}}"#,
                seq.0,
                hash.to_hex(),
                entry.get()
            )
        } else {
            match Entry::decode(bytes) {
                Ok(entry) => {
                    let event = &entry.event;
                    let kind = match event {
                        Event::ClaimRecorded(_) => "recorded".to_owned(),
                        Event::ClaimRevised(e) => format!("revised:{}", e.kind.as_str()),
                    };
                    let key = match event {
                        Event::ClaimRecorded(e) => e.key.as_ref().map(ToString::to_string),
                        Event::ClaimRevised(e) => {
                            if keys.len() >= KEY_CACHE_MAX {
                                keys.clear();
                            }
                            match keys.get(&e.claim_id) {
                                Some(key) => key.clone(),
                                None => {
                                    let key = match ledger.revisions(e.claim_id) {
                                        Ok(records) => records
                                            .first()
                                            .and_then(|r| r.key.as_ref())
                                            .map(ToString::to_string),
                                        Err(error) => {
                                            result = Err(error.into());
                                            return ControlFlow::Break(());
                                        }
                                    };
                                    keys.insert(e.claim_id, key.clone());
                                    key
                                }
                            }
                        }
                    };
                    let claim = key.unwrap_or_else(|| event.claim_id().to_string());
                    writeln!(
                        out,
                        "{:>8}  {:<16}  {:<18}  {:<36}  {:>3}  {}",
                        seq,
                        &hash.to_hex()[..16],
                        kind,
                        claim,
                        event.revision(),
                        output::timestamp(event.recorded_at())
                    )
                }
                Err(e) => {
                    result = Err(CliError::integrity(format!(
                        "entry {seq} does not decode ({e}); run `claims verify`"
                    )));
                    return ControlFlow::Break(());
                }
            }
        };
        if let Err(e) = written {
            result = Err(e.into());
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    })?;
    result?;
    out.flush()?;
    Ok(Exit::SUCCESS)
}
