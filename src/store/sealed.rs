//! Child-identifying values sealed at rest: a child's first name, the free
//! text staff and volunteers write (notes, reasons, referral outcomes), the
//! answers of unfinished sessions and the replies that echo them. Each is
//! stored as `enc1:<key id>:<base64 of nonce and ciphertext>`, sealed with
//! XChaCha20-Poly1305 (RustCrypto's `chacha20poly1305`) under the current
//! data key, a random 24-byte nonce per value, and the column's name as
//! associated data (a value moved to another column does not open).
//!
//! A keyring holds the current key (it seals) and older ones (they still
//! open what they sealed, until `kanda keys rotate` has resealed it). A
//! value written before encryption existed has no `enc1:` prefix and reads
//! as it is, until the rotation seals it. Nothing searches or sorts on a
//! sealed column: its bytes say nothing.

use std::{fmt, path::Path};

use base64::{engine::general_purpose::STANDARD, Engine as _};
use chacha20poly1305::{
    aead::{Aead, KeyInit, Payload},
    XChaCha20Poly1305, XNonce,
};
use rand::RngCore;
use sha2::{Digest, Sha256};

const PREFIX: &str = "enc1:";
const NONCE: usize = 24;

/// Why a keyring could not be read, or a value could not be opened.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error(
        "no data key: set KANDA_DATA_KEY or KANDA_DATA_KEY_FILE (make one with `kanda keys new`)"
    )]
    Missing,
    #[error("data key {index} is not 32 bytes of base64 (make one with `kanda keys new`)")]
    Malformed { index: usize },
    #[error("could not read the data key file {path}: {error}")]
    File { path: String, error: String },
    #[error("a value in {column} was sealed with data key {id}, which is not configured")]
    UnknownKey { column: String, id: String },
    #[error("a value in {column} does not open with data key {id}: altered, or moved from another column")]
    Corrupt { column: String, id: String },
}

struct DataKey {
    id: String,
    cipher: XChaCha20Poly1305,
}

/// The data keys: the first seals, every one opens what it sealed.
pub struct Keyring {
    keys: Vec<DataKey>,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Ids only: never a key.
        let ids: Vec<&str> = self.keys.iter().map(|k| k.id.as_str()).collect();
        f.debug_struct("Keyring").field("ids", &ids).finish()
    }
}

impl Keyring {
    /// Keys in base64, separated by commas, spaces or lines, the current
    /// one first; `#` starts a comment (a key file's form too).
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let words = text
            .lines()
            .map(|l| l.split('#').next().unwrap_or(""))
            .flat_map(|l| l.split([',', ' ', '\t']))
            .filter(|w| !w.is_empty());
        let mut keys = Vec::new();
        for (index, word) in words.enumerate() {
            let bytes = STANDARD
                .decode(word)
                .ok()
                .filter(|b| b.len() == 32)
                .ok_or(KeyError::Malformed { index: index + 1 })?;
            keys.push(DataKey {
                id: key_id(&bytes),
                cipher: XChaCha20Poly1305::new_from_slice(&bytes)
                    .map_err(|_| KeyError::Malformed { index: index + 1 })?,
            });
        }
        match keys.is_empty() {
            true => Err(KeyError::Missing),
            false => Ok(Keyring { keys }),
        }
    }

    /// The keyring in a key file (one key per line, the current first).
    pub fn from_file(path: &Path) -> Result<Self, KeyError> {
        let text = std::fs::read_to_string(path).map_err(|e| KeyError::File {
            path: path.display().to_string(),
            error: e.to_string(),
        })?;
        Self::parse(&text)
    }

    /// A new random key, in the form `parse` reads.
    pub fn new_key() -> String {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        STANDARD.encode(bytes)
    }

    /// The id of the key that seals (a value under another is resealed by
    /// the rotation).
    pub fn current_id(&self) -> &str {
        &self.keys[0].id
    }

    /// Ids of every key, the current first.
    pub fn ids(&self) -> Vec<String> {
        self.keys.iter().map(|k| k.id.clone()).collect()
    }

    /// `clear` sealed for `column` under the current key.
    pub fn seal(&self, column: &str, clear: &str) -> String {
        let key = &self.keys[0];
        let mut nonce = [0u8; NONCE];
        rand::thread_rng().fill_bytes(&mut nonce);
        let sealed = key
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: clear.as_bytes(),
                    aad: column.as_bytes(),
                },
            )
            .expect("XChaCha20-Poly1305 seals any message under 256 GiB");
        let mut out = Vec::with_capacity(NONCE + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        [PREFIX, &key.id, ":", &STANDARD.encode(out)].concat()
    }

    pub fn seal_opt(&self, column: &str, clear: Option<&str>) -> Option<String> {
        clear.map(|c| self.seal(column, c))
    }

    /// The clear text of a value stored in `column`: opened with the key it
    /// names, or as it is when it was written before encryption.
    pub fn open(&self, column: &str, stored: &str) -> Result<String, KeyError> {
        let Some(rest) = stored.strip_prefix(PREFIX) else {
            return Ok(stored.to_string());
        };
        let (id, body) = rest.split_once(':').unwrap_or((rest, ""));
        let corrupt = || KeyError::Corrupt {
            column: column.to_string(),
            id: id.to_string(),
        };
        let key = self
            .keys
            .iter()
            .find(|k| k.id == id)
            .ok_or_else(|| KeyError::UnknownKey {
                column: column.to_string(),
                id: id.to_string(),
            })?;
        let bytes = STANDARD.decode(body).map_err(|_| corrupt())?;
        if bytes.len() < NONCE {
            return Err(corrupt());
        }
        let (nonce, sealed) = bytes.split_at(NONCE);
        let clear = key
            .cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: column.as_bytes(),
                },
            )
            .map_err(|_| corrupt())?;
        String::from_utf8(clear).map_err(|_| corrupt())
    }

    pub fn open_opt(&self, column: &str, stored: Option<&str>) -> Result<Option<String>, KeyError> {
        stored.map(|s| self.open(column, s)).transpose()
    }

    /// Whether a stored value is sealed under the current key (else the
    /// rotation reseals it).
    pub fn is_current(&self, stored: &str) -> bool {
        stored
            .strip_prefix(PREFIX)
            .and_then(|r| r.strip_prefix(self.current_id()))
            .is_some_and(|r| r.starts_with(':'))
    }

    /// The `LIKE` pattern of values sealed under the current key.
    pub fn current_pattern(&self) -> String {
        [PREFIX, self.current_id(), ":%"].concat()
    }
}

/// A sealed column: its table, the columns that find a row, its name.
#[derive(Clone, Copy, Debug)]
pub struct Column {
    pub table: &'static str,
    pub key: &'static [&'static str],
    pub name: &'static str,
}

impl Column {
    const fn new(table: &'static str, key: &'static [&'static str], name: &'static str) -> Self {
        Column { table, key, name }
    }

    /// `table.column`: the associated data each value is sealed with.
    pub fn label(&self) -> String {
        [self.table, ".", self.name].concat()
    }
}

pub const CHILD_NAME: Column = Column::new("cases", &["id"], "child_name");
pub const EVENT_NOTE: Column = Column::new("case_events", &["id"], "note");
pub const TRANSFER_REASON: Column = Column::new("case_transfers", &["id"], "reason");
pub const TRANSFER_NOTE: Column = Column::new("case_transfers", &["id"], "decision_note");
pub const REFERRAL_NOTE: Column = Column::new("referrals", &["id"], "note");
pub const REFERRAL_OUTCOME_NOTE: Column = Column::new("referrals", &["id"], "outcome_note");
pub const USSD_INPUTS: Column = Column::new("ussd_sessions", &["session_id"], "inputs");
pub const USSD_PREFIX: Column = Column::new("ussd_sessions", &["session_id"], "prefix");
pub const SMS_INPUT: Column = Column::new("sms_inputs", &["id"], "input");
pub const SMS_REPLY: Column = Column::new("sms_inbound", &["provider", "message_id"], "reply");

/// Every sealed column: what the rotation walks, what a test greps.
pub const COLUMNS: &[Column] = &[
    CHILD_NAME,
    EVENT_NOTE,
    TRANSFER_REASON,
    TRANSFER_NOTE,
    REFERRAL_NOTE,
    REFERRAL_OUTCOME_NOTE,
    USSD_INPUTS,
    USSD_PREFIX,
    SMS_INPUT,
    SMS_REPLY,
];

/// A key's id: the first 8 hex digits of a hash of it (it names the key
/// without revealing it, and the same key always has the same id).
fn key_id(key: &[u8]) -> String {
    let digest = Sha256::new()
        .chain_update(b"kanda data key id\0")
        .chain_update(key)
        .finalize();
    digest[..4].iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(keys: &[&str]) -> Keyring {
        Keyring::parse(&keys.join(",")).unwrap()
    }

    #[test]
    fn a_value_round_trips_and_its_bytes_hide_it() {
        let k = Keyring::new_key();
        let r = ring(&[&k]);
        let sealed = r.seal("cases.child_name", "Aline");
        assert!(sealed.starts_with(&format!("enc1:{}:", r.current_id())));
        assert!(!sealed.contains("Aline"));
        assert_ne!(sealed, r.seal("cases.child_name", "Aline"), "a fresh nonce");
        assert_eq!(r.open("cases.child_name", &sealed).unwrap(), "Aline");
        assert!(r.is_current(&sealed));
    }

    #[test]
    fn another_column_an_altered_value_or_a_missing_key_do_not_open() {
        let (a, b) = (Keyring::new_key(), Keyring::new_key());
        let r = ring(&[&a]);
        let sealed = r.seal("cases.child_name", "Aline");
        assert!(matches!(
            r.open("case_events.note", &sealed),
            Err(KeyError::Corrupt { .. })
        ));
        let mut altered = sealed.clone();
        altered.pop();
        altered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert!(r.open("cases.child_name", &altered).is_err());
        assert!(matches!(
            ring(&[&b]).open("cases.child_name", &sealed),
            Err(KeyError::UnknownKey { .. })
        ));
    }

    #[test]
    fn an_older_key_opens_what_it_sealed_and_the_current_one_seals() {
        let (old, new) = (Keyring::new_key(), Keyring::new_key());
        let before = ring(&[&old]).seal("referrals.note", "seen at school");
        let both = Keyring::parse(&format!("# rotated\n{new}\n{old}  # old\n")).unwrap();
        assert_eq!(
            both.open("referrals.note", &before).unwrap(),
            "seen at school"
        );
        assert!(!both.is_current(&before));
        assert!(both.is_current(&both.seal("referrals.note", "x")));
        assert_eq!(both.ids().len(), 2);
    }

    #[test]
    fn a_value_from_before_encryption_reads_as_it_is() {
        let r = ring(&[&Keyring::new_key()]);
        assert_eq!(r.open("case_events.note", "plain").unwrap(), "plain");
        assert!(!r.is_current("plain"));
    }

    #[test]
    fn bad_keys_are_refused_with_a_way_out() {
        assert_eq!(
            Keyring::parse(" \n# none\n").unwrap_err(),
            KeyError::Missing
        );
        assert!(Keyring::parse("c2hvcnQ=").is_err());
        assert!(KeyError::Missing.to_string().contains("kanda keys new"));
        let r = ring(&[&Keyring::new_key()]);
        assert!(!format!("{r:?}").contains('='), "Debug shows ids only");
    }
}
