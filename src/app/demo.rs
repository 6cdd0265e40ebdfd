//! `kanda serve --demo`: a small demo country seeded into an empty database
//! through the same importer a real deployment uses (`demo/*.csv`).

use std::path::{Path, PathBuf};

use super::{config::sqlite_file, AppState};
use crate::{
    casework::access::hash_password,
    channels::import::{Importer, Kind},
    domain::Phone,
    store::{Keyring, Table},
};

/// Every demo staff member's web password (`kanda serve --demo` only).
pub const DEMO_PASSWORD: &str = "kanda-demo";

const FILES: [(Kind, &str, &str); 6] = [
    (
        Kind::Locations,
        "src/app/demo/locations.csv",
        include_str!("demo/locations.csv"),
    ),
    (
        Kind::Centres,
        "src/app/demo/centres.csv",
        include_str!("demo/centres.csv"),
    ),
    (
        Kind::Staff,
        "src/app/demo/staff.csv",
        include_str!("demo/staff.csv"),
    ),
    (
        Kind::Volunteers,
        "src/app/demo/volunteers.csv",
        include_str!("demo/volunteers.csv"),
    ),
    (
        Kind::Rota,
        "src/app/demo/rota.csv",
        include_str!("demo/rota.csv"),
    ),
    (
        Kind::Chain,
        "src/app/demo/chain.csv",
        include_str!("demo/chain.csv"),
    ),
];

/// Seeds the demo into an empty database; returns a description to print,
/// or `None` when the database already holds places.
pub async fn seed(state: &AppState) -> anyhow::Result<Option<String>> {
    if state.store.count(Table::Locations).await? > 0 {
        return Ok(None);
    }
    let importer = Importer {
        store: &state.store,
        country: state.config.country,
        texts: state.engine.texts(),
    };
    for (kind, name, text) in FILES {
        importer.import(kind, name, text.as_bytes()).await?;
    }
    // One hash for every demo account (one argon2 run, not seven): the
    // demo's password is public anyway. Outside the demo no account has a
    // password until `kanda staff password` sets one.
    let hash = tokio::task::spawn_blocking(|| hash_password(DEMO_PASSWORD)).await??;
    for line in include_str!("demo/staff.csv").lines().skip(1) {
        if let Some(phone) = line.split(',').next() {
            state
                .store
                .set_password_hash(&Phone::from_trusted(phone.to_string()), &hash)
                .await?;
        }
    }
    let mut out = String::from("Demo data seeded: 2 provinces (Amajyepfo, Iburasirazuba), each with districts, sectors and villages, one centre each.\n");
    out.push_str("Volunteers (dial the USSD code from these numbers):\n");
    out.push_str("  +250788000001  Grace Uwimana      English      Cyarwa village (Tumba, Huye)\n");
    out.push_str(
        "  +250788000002  Marie Ingabire     French       Kamonyi village (Kigabiro, Rwamagana)\n",
    );
    out.push_str("  +250788000003  Emmanuel Habimana  Kinyarwanda  Nyamirambo village (Busasamana, Nyanza)\n");
    out.push_str("Staff:\n");
    out.push_str("  +250788100001  caseworker, Centre Amajyepfo\n");
    out.push_str("  +250788100002  manager, Centre Amajyepfo\n");
    out.push_str("  +250788300001  committee contact, Centre Amajyepfo\n");
    out.push_str("  +250788200001  caseworker, Centre Iburasirazuba\n");
    out.push_str("  +250788200002  manager, Centre Iburasirazuba\n");
    out.push_str("  +250788900001  national administrator\n");
    out.push_str("  +250788900002  auditor (reads everything and the audit log)\n");
    out.push_str(&format!(
        "Staff web view: http://<bind>/login, any staff phone above with the password `{DEMO_PASSWORD}`.\n"
    ));
    out.push_str("Rota: Amajyepfo's caseworker is on duty mon-fri 08:00-17:00 and its fallback; Iburasirazuba's all week, all day.\n");
    out.push_str(
        "Escalation: caseworker, then manager (then, for Amajyepfo, the committee contact).\n",
    );
    out.push_str("Any other number reports as a member of the public (self-referral).");
    Ok(Some(out))
}

/// The demo's data key when none is configured: kept beside the SQLite
/// file (`kanda.db.key`), or for PostgreSQL in the system's temporary
/// folder under a name drawn from the URL, made on the first start with
/// the owner alone able to read it. The demo seals child data as a real
/// deployment does. Returns the keys, the file, and whether it is new.
pub fn demo_keys(database_url: &str) -> anyhow::Result<(Keyring, PathBuf, bool)> {
    let path = demo_key_file(database_url);
    if let Some((keys, path)) = existing_demo_keys(database_url)? {
        return Ok((keys, path, false));
    }
    let key = Keyring::new_key();
    let text =
        format!("# Kanda demo data key (kanda serve --demo); the current key first.\n{key}\n");
    write_private(&path, &text).map_err(|e| {
        anyhow::anyhow!(
            "could not keep the demo data key in {}: {e}",
            path.display()
        )
    })?;
    Ok((Keyring::parse(&key)?, path, true))
}

/// The demo's data key of this database, when `serve --demo` made one
/// (the other commands read a demo database with it).
pub fn existing_demo_keys(database_url: &str) -> anyhow::Result<Option<(Keyring, PathBuf)>> {
    let path = demo_key_file(database_url);
    match path.exists() {
        true => Ok(Some((Keyring::from_file(&path)?, path))),
        false => Ok(None),
    }
}

fn demo_key_file(database_url: &str) -> PathBuf {
    match sqlite_file(database_url) {
        Some(db) => {
            let mut name = db.into_os_string();
            name.push(".key");
            PathBuf::from(name)
        }
        None => {
            use sha2::{Digest, Sha256};
            let digest = Sha256::digest(database_url.as_bytes());
            let tag: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
            std::env::temp_dir().join(format!("kanda-demo-{tag}.key"))
        }
    }
}

/// Writes a new file only its owner may read.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}
