//! Twilio's request validation: the `X-Twilio-Signature` header.
//!
//! Twilio signs each webhook with the account's auth token:
//! `base64(HMAC-SHA1(token, url ++ name1 ++ value1 ++ name2 ++ value2 ...))`
//! where `url` is the full URL Twilio requested (scheme, host, port if any,
//! path and query string, exactly as configured) and the POST parameters
//! follow sorted by name, a name sent several times sorted by value, with no
//! separators. Names and values are the decoded form fields.
//!
//! Like Twilio's helper libraries (`twilio/request_validator.py` and the
//! others), [`verify`]:
//! - accepts a signature over the URL with or without its port, since
//!   Twilio's own signing is inconsistent about an explicit `:443`/`:80`:
//!   with no port in the URL the default one is tried too; with a port, the
//!   URL without it is tried too;
//! - counts a (name, value) pair sent twice once (the helpers sort a set of
//!   values), so [`compute`] does the same.
//!
//! The JSON-body variant (`?bodySHA256=`) is not implemented: Twilio uses it
//! for JSON webhooks only, never for the form-encoded SMS and voice ones.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use subtle::ConstantTimeEq;

/// The header Twilio puts the signature in.
pub const HEADER: &str = "X-Twilio-Signature";

/// The signature Twilio sends for a request to `url` with these POST
/// parameters (decoded names and values, in any order).
pub fn compute<K: AsRef<str>, V: AsRef<str>>(
    auth_token: &str,
    url: &str,
    params: &[(K, V)],
) -> String {
    base64::engine::general_purpose::STANDARD.encode(mac(auth_token, url, params))
}

/// Whether `header` is Twilio's signature for this request: over `url` as
/// given or its port variant (see the module documentation). Compares in
/// constant time; surrounding whitespace in the header is ignored.
pub fn verify<K: AsRef<str>, V: AsRef<str>>(
    auth_token: &str,
    url: &str,
    params: &[(K, V)],
    header: &str,
) -> bool {
    let given = header.trim().as_bytes();
    let mut ok = subtle::Choice::from(0);
    for candidate in url_variants(url) {
        let expected = compute(auth_token, &candidate, params);
        ok |= expected.as_bytes().ct_eq(given);
    }
    ok.into()
}

fn mac<K: AsRef<str>, V: AsRef<str>>(auth_token: &str, url: &str, params: &[(K, V)]) -> Vec<u8> {
    let mut sorted: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_ref(), v.as_ref()))
        .collect();
    // Byte order of UTF-8 is code point order, as Python's `sorted` of str.
    sorted.sort_unstable();
    sorted.dedup();
    let mut mac = Hmac::<Sha1>::new_from_slice(auth_token.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    mac.finalize().into_bytes().to_vec()
}

/// `url` itself, then the same URL with the default port added (when it has
/// none) or with its port removed (when it has one), as Twilio's helpers
/// try them.
fn url_variants(url: &str) -> Vec<String> {
    let mut out = vec![url.to_string()];
    let Some((scheme, rest)) = url.split_once("://") else {
        return out;
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    // The port follows the last `:` after any userinfo and after an IPv6
    // literal's closing bracket.
    let host_start = authority.rfind('@').map_or(0, |i| i + 1);
    let host_and_port = &authority[host_start..];
    let port_colon = host_and_port
        .rfind(':')
        .filter(|&i| !host_and_port[i..].contains(']'));
    match port_colon {
        Some(i) => {
            let port = &host_and_port[i + 1..];
            if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) {
                let without = &authority[..host_start + i];
                out.push(format!("{scheme}://{without}{tail}"));
            }
        }
        None if !host_and_port.is_empty() => {
            let port = if scheme.eq_ignore_ascii_case("https") {
                443
            } else {
                80
            };
            out.push(format!("{scheme}://{authority}:{port}{tail}"));
        }
        None => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOCS_URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";

    fn docs_params(caller: &str) -> Vec<(String, String)> {
        [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", caller),
            ("Digits", "1234"),
            ("From", caller),
            ("To", "+18005551212"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    /// Twilio's documented example (its Node snippet: caller +14158675310),
    /// and the same request with caller +12349013030 (Twilio's Python
    /// snippet's numbers); both values checked with twilio 9.13.0's
    /// `RequestValidator.compute_signature`.
    #[test]
    fn twilio_docs_example() {
        let params = docs_params("+14158675310");
        assert_eq!(
            compute("12345", DOCS_URL, &params),
            "GvWf1cFY/Q7PnoempGyD5oXAezc="
        );
        assert!(verify(
            "12345",
            DOCS_URL,
            &params,
            "GvWf1cFY/Q7PnoempGyD5oXAezc="
        ));
        let params = docs_params("+12349013030");
        assert_eq!(
            compute("12345", DOCS_URL, &params),
            "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
        );
        assert!(verify(
            "12345",
            DOCS_URL,
            &params,
            " 0/KCTR6DLpKmkAf8muzZqo1nDgQ=\r\n"
        ));
    }

    #[test]
    fn parameter_order_does_not_matter_but_every_byte_does() {
        let params = docs_params("+12349013030");
        let sig = compute("12345", DOCS_URL, &params);
        let mut reversed = params.clone();
        reversed.reverse();
        assert!(verify("12345", DOCS_URL, &reversed, &sig));

        assert!(!verify("12346", DOCS_URL, &params, &sig), "wrong token");
        assert!(!verify("", DOCS_URL, &params, &sig), "empty token");

        let mut tampered = params.clone();
        tampered[2].1 = "1235".into();
        assert!(
            !verify("12345", DOCS_URL, &tampered, &sig),
            "tampered value"
        );
        let mut renamed = params.clone();
        renamed[2].0 = "digits".into();
        assert!(!verify("12345", DOCS_URL, &renamed, &sig), "renamed field");
        let missing = &params[..4];
        assert!(!verify("12345", DOCS_URL, missing, &sig), "missing field");
        let mut extra = params.clone();
        extra.push(("Body".into(), String::new()));
        assert!(
            !verify("12345", DOCS_URL, &extra, &sig),
            "extra empty field"
        );

        let other_url = "https://mycompany.com/myapp.php?foo=1&bar=3";
        assert!(!verify("12345", other_url, &params, &sig), "other query");
        let http = DOCS_URL.replacen("https", "http", 1);
        assert!(!verify("12345", &http, &params, &sig), "other scheme");
        assert!(!verify("12345", DOCS_URL, &params, ""), "empty header");
        assert!(
            !verify("12345", DOCS_URL, &params, &sig[..sig.len() - 1]),
            "truncated header"
        );
    }

    #[test]
    fn repeated_names_sort_by_value_and_identical_pairs_count_once() {
        let url = "https://example.org/sms";
        let a = [("MediaUrl", "b"), ("MediaUrl", "a"), ("Body", "x")];
        let b = [("Body", "x"), ("MediaUrl", "a"), ("MediaUrl", "b")];
        assert_eq!(compute("t", url, &a), compute("t", url, &b));
        let twice = [
            ("Body", "x"),
            ("Body", "x"),
            ("MediaUrl", "a"),
            ("MediaUrl", "b"),
        ];
        assert_eq!(compute("t", url, &twice), compute("t", url, &b));
        let swapped = [("Body", "x"), ("MediaUrl", "ab")];
        assert_ne!(compute("t", url, &swapped), compute("t", url, &b));
        let none: &[(&str, &str)] = &[];
        assert_eq!(compute("t", url, none).len(), 28);
    }

    #[test]
    fn port_variants_are_accepted_both_ways() {
        let params = docs_params("+12349013030");
        let pairs = [
            (
                "https://mycompany.com/myapp.php?foo=1",
                "https://mycompany.com:443/myapp.php?foo=1",
            ),
            ("http://mycompany.com/sms", "http://mycompany.com:80/sms"),
            (
                "http://127.0.0.1/sms/twilio",
                "http://127.0.0.1:8080/sms/twilio",
            ),
            ("https://[::1]/sms", "https://[::1]:8443/sms"),
            ("https://u:p@h.example", "https://u:p@h.example:443"),
        ];
        for (bare, with_port) in pairs {
            let signed_bare = compute("12345", bare, &params);
            let signed_port = compute("12345", with_port, &params);
            assert_ne!(signed_bare, signed_port);
            assert!(verify("12345", bare, &params, &signed_bare), "{bare}");
            assert!(verify("12345", with_port, &params, &signed_port));
            assert!(
                verify("12345", with_port, &params, &signed_bare),
                "{with_port}"
            );
            if with_port.contains(":443") || with_port.contains(":80/") {
                assert!(verify("12345", bare, &params, &signed_port), "{bare}");
            }
        }
        // A URL without a port is not matched by a signature over another port.
        let other = compute("12345", "https://mycompany.com:8443/x", &params);
        assert!(!verify("12345", "https://mycompany.com/x", &params, &other));
        // Other hosts, paths and schemes are never variants.
        let sig = compute("12345", "https://mycompany.com/x", &params);
        assert!(!verify("12345", "https://mycompany.org/x", &params, &sig));
        assert!(!verify("12345", "https://mycompany.com/y", &params, &sig));
    }

    #[test]
    fn url_variants_follow_twilios_helpers() {
        let v = |u: &str| url_variants(u);
        assert_eq!(
            v("https://a.example/p?q=1:2"),
            ["https://a.example/p?q=1:2", "https://a.example:443/p?q=1:2"]
        );
        assert_eq!(
            v("http://a.example:80/p"),
            ["http://a.example:80/p", "http://a.example/p"]
        );
        assert_eq!(
            v("http://a.example#f"),
            ["http://a.example#f", "http://a.example:80#f"]
        );
        assert_eq!(
            v("https://[::1]/"),
            ["https://[::1]/", "https://[::1]:443/"]
        );
        assert_eq!(
            v("https://[::1]:9/"),
            ["https://[::1]:9/", "https://[::1]/"]
        );
        assert_eq!(v("not a url"), ["not a url"]);
        assert_eq!(v("http://a.example:x/"), ["http://a.example:x/"]);
        assert_eq!(v("http:///p"), ["http:///p"]);
    }
}
