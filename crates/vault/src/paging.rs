//! List pagination shared by every listing endpoint: the `limit` rule and opaque cursors.
//!
//! A cursor is base64url of `<tag>:<position>`; the tag names the list it belongs to, so a
//! cursor from one listing is refused by another instead of silently misplacing the page.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use keyhold_core::api::{DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT};

use crate::error::{Error, Result};

/// The page size asked for, or the default; 400 outside 1..=500.
pub fn limit(requested: Option<u32>) -> Result<u32> {
    let limit = requested.unwrap_or(DEFAULT_PAGE_LIMIT);
    if limit == 0 || limit > MAX_PAGE_LIMIT {
        return Err(Error::BadRequest(format!(
            "limit must be between 1 and {MAX_PAGE_LIMIT}."
        )));
    }
    Ok(limit)
}

pub fn encode_cursor(tag: char, position: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{tag}:{position}"))
}

pub fn decode_cursor(tag: char, cursor: &str) -> Result<String> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| {
            s.strip_prefix(tag)
                .and_then(|rest| rest.strip_prefix(':'))
                .map(str::to_owned)
        })
        .ok_or_else(|| Error::BadRequest("The cursor is not valid.".to_owned()))
}

/// The cursor for the next page: present only when this page came back full.
pub fn next_cursor<T>(
    items: &[T],
    limit: u32,
    tag: char,
    position: impl Fn(&T) -> String,
) -> Option<String> {
    if items.len() == limit as usize {
        items.last().map(|last| encode_cursor(tag, &position(last)))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_belong_to_their_list() {
        let c = encode_cursor('k', "0192-abc");
        assert_eq!(decode_cursor('k', &c).unwrap(), "0192-abc");
        assert!(decode_cursor('r', &c).is_err());
        assert!(decode_cursor('k', "garbage!").is_err());
    }

    #[test]
    fn limit_rules() {
        assert_eq!(limit(None).unwrap(), DEFAULT_PAGE_LIMIT);
        assert_eq!(limit(Some(500)).unwrap(), 500);
        assert!(limit(Some(0)).is_err());
        assert!(limit(Some(501)).is_err());
    }

    #[test]
    fn next_cursor_only_on_a_full_page() {
        assert!(next_cursor(&[1, 2], 3, 'a', |n| n.to_string()).is_none());
        let c = next_cursor(&[1, 2, 3], 3, 'a', |n| n.to_string()).unwrap();
        assert_eq!(decode_cursor('a', &c).unwrap(), "3");
    }
}
