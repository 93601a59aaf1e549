//! The mail folder a server writes when it has no SMTP server (`<data-dir>/outbox`): reading
//! its messages and the links in them.

use std::path::Path;

/// Every message in `data_dir/outbox`, oldest first, as raw RFC 5322 text.
pub fn outbox_in(data_dir: &Path) -> Vec<String> {
    let dir = data_dir.join("outbox");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    files
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

/// The newest link to `base_url` + `path` mailed to `to` through the outbox folder of
/// `data_dir`, waiting up to 10 s for it: a server process sends mail from its durable
/// outbox in the background, just after the action is answered.
pub fn mailed_link_in(data_dir: &Path, base_url: &str, to: &str, path: &str) -> Option<String> {
    let start = std::time::Instant::now();
    loop {
        let found = find_mailed_link_in(data_dir, base_url, to, path);
        if found.is_some() || start.elapsed() > std::time::Duration::from_secs(10) {
            return found;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// [`mailed_link_in`] as the folder is now, without waiting.
pub fn find_mailed_link_in(
    data_dir: &Path,
    base_url: &str,
    to: &str,
    path: &str,
) -> Option<String> {
    let needle = format!("{base_url}{path}?");
    outbox_in(data_dir)
        .iter()
        .rev()
        .filter(|m| m.contains(&format!("To: {to}")))
        .find_map(|m| {
            decode_quoted_printable(m)
                .lines()
                .find(|l| l.trim().starts_with(&needle))
                .map(|l| l.trim().to_owned())
        })
}

/// Undo quoted-printable (RFC 2045): soft line breaks and `=XX` escapes. Mail bodies with
/// long lines (links) are sent that way.
pub fn decode_quoted_printable(text: &str) -> String {
    let unfolded = text.replace("=\r\n", "").replace("=\n", "");
    let bytes = unfolded.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
            if let Ok(b) = u8::from_str_radix(hex, 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
