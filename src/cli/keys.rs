//! `kanda keys`: make a data key, and reseal every child-identifying value
//! under the current one (after a new key was put first), in batches,
//! while the service runs.

use std::{process::ExitCode, sync::Arc};

use clap::Subcommand;

use crate::{
    app::{AppState, Config},
    domain::SystemClock,
    store::{sealed_columns, Keyring},
};

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Print a new random data key (base64), to put first in
    /// KANDA_DATA_KEY or the key file.
    New,
    /// Reseal every sealed value that is not under the current (first)
    /// key: values of older keys, and clear text written before
    /// encryption. Safe while servers run, once they all have the new key
    /// first; run again until it reseals nothing, then drop the old key.
    Rotate {
        /// Values read and resealed per batch.
        #[arg(long, default_value_t = 500)]
        batch: usize,
    },
}

pub async fn keys(config: Config, command: KeysCommand) -> anyhow::Result<ExitCode> {
    match command {
        KeysCommand::New => {
            let key = Keyring::new_key();
            println!("{key}");
            eprintln!(
                "A new data key (keep it secret, and keep a copy: without it the sealed \
                 fields cannot be read, backups included). To start using it, put it first: \
                 KANDA_DATA_KEY=NEW,OLD (or NEW on the key file's first line), restart every \
                 server, then run `kanda keys rotate`."
            );
            Ok(ExitCode::SUCCESS)
        }
        KeysCommand::Rotate { batch } => {
            let state = AppState::build(config, Arc::new(SystemClock)).await?;
            let total = rotate(&state, batch.max(1), |column, n| {
                println!("{column}: {n} resealed");
            })
            .await?;
            println!(
                "{total} values resealed under key {}",
                state.store.keys().current_id()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Walks every sealed column in batches of `batch`; `done(column, n)` after
/// each column. The number of values resealed.
pub async fn rotate(
    state: &AppState,
    batch: usize,
    mut done: impl FnMut(&str, usize),
) -> anyhow::Result<usize> {
    let mut total = 0;
    for (i, column) in sealed_columns().iter().enumerate() {
        let mut from = None;
        let mut n = 0;
        loop {
            let r = state.store.reseal_batch(i, from.as_ref(), batch).await?;
            n += r.resealed;
            match r.next {
                Some(next) => from = Some(next),
                None => break,
            }
        }
        done(column, n);
        total += n;
    }
    Ok(total)
}
