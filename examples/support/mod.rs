//! What the benchmark programs share: a fresh database to run on.

/// A fresh database: a SQLite file in `dir` (on disk), or a new database on
/// `KANDA_TEST_POSTGRES_URL`'s server (default
/// postgres://postgres@127.0.0.1:5432/postgres), dropped by [`BenchDb::drop_now`].
pub struct BenchDb {
    pub url: String,
    pg: Option<(String, String)>,
}

impl BenchDb {
    pub async fn new(kind: &str, dir: &std::path::Path, name: &str) -> anyhow::Result<Self> {
        match kind {
            "sqlite" => Ok(BenchDb {
                url: format!("sqlite://{}", dir.join(format!("{name}.db")).display()),
                pg: None,
            }),
            "postgres" => {
                use sqlx::Connection;
                let admin = std::env::var("KANDA_TEST_POSTGRES_URL")
                    .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
                let db = format!("kanda_bench_{name}_{}", std::process::id());
                let mut conn = sqlx::PgConnection::connect(&admin).await?;
                sqlx::query(&format!("CREATE DATABASE {db}"))
                    .execute(&mut conn)
                    .await?;
                let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
                Ok(BenchDb {
                    url: format!("{base}/{db}"),
                    pg: Some((admin.clone(), db)),
                })
            }
            other => anyhow::bail!("`{other}`: use sqlite or postgres"),
        }
    }

    /// Drops a PostgreSQL database (a SQLite file goes with its folder).
    pub async fn drop_now(self) -> anyhow::Result<()> {
        if let Some((admin, db)) = self.pg {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(&admin).await?;
            sqlx::query(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
                .execute(&mut conn)
                .await?;
        }
        Ok(())
    }
}
