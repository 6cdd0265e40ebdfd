//! Identifiers no one can guess (conversation ids, idempotency keys).

/// 128 random bits as 32 hex digits: an identifier no one can guess.
pub fn random_token() -> String {
    use rand::Rng;
    format!("{:032x}", rand::thread_rng().gen::<u128>())
}
