//! Test harness: a real server on port 0 over a fresh database, SQLite or
//! PostgreSQL, and the fixtures the suites share. PostgreSQL tests fail
//! loudly when the server cannot be reached (set KANDA_TEST_POSTGRES=skip to
//! skip them knowingly).
#![allow(dead_code, unused_imports)]

mod app;
mod db;
mod fixtures;
mod web;

pub use app::*;
pub use db::*;
pub use fixtures::*;
pub use web::*;

/// Runs an async test body against SQLite and against PostgreSQL.
#[macro_export]
macro_rules! both {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::common::Db::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if $crate::common::skip_postgres() {
                    eprintln!("KANDA_TEST_POSTGRES=skip: PostgreSQL run skipped");
                    return;
                }
                super::$name($crate::common::Db::Postgres).await
            }
        }
    )*};
}
