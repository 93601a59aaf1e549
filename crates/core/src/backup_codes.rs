//! One-time backup codes: the way back in when the authenticator is lost.
//!
//! A code is 12 characters from a 30-character lower-case alphabet with the look-alikes
//! removed (`0 o 1 i l`, and `u` for `v`), shown as `xxxx-xxxx-xxxx`: 12 × log2(30) ≈ 58.9
//! bits, comfortably over the 50 the design asks for, so an online guesser held back by
//! rate limits gets nowhere. Lower case because people read it off paper and type it on
//! phones, where upper case costs a shift.
//!
//! [`normalize`] forgives case, spaces and dashes, and nothing else: a character outside
//! the alphabet is a typo the user should see, not something to guess at. The server
//! stores keyed hashes of the normalised form, so the same code typed any way matches.

use rand::Rng;
use rand::rngs::OsRng;

use crate::Sensitive;

/// The alphabet, in order. No character here looks like another in common fonts.
pub const ALPHABET: &[u8; 30] = b"23456789abcdefghjkmnpqrstvwxyz";
/// How many codes a set has.
pub const COUNT: usize = 10;
/// Characters per code, without the dashes.
pub const LEN: usize = 12;
/// Characters between dashes when displayed.
pub const GROUP: usize = 4;

/// Entropy of one code in bits.
pub fn entropy_bits() -> f64 {
    LEN as f64 * (ALPHABET.len() as f64).log2()
}

/// A fresh set of [`COUNT`] codes from the OS CSPRNG, formatted for display
/// (`xxxx-xxxx-xxxx`). Shown once; the server keeps only hashes of [`normalize`]d codes.
pub fn generate() -> Vec<Sensitive<String>> {
    (0..COUNT).map(|_| generate_one()).collect()
}

fn generate_one() -> Sensitive<String> {
    let mut rng = OsRng;
    let mut code = String::with_capacity(LEN + LEN / GROUP);
    for i in 0..LEN {
        if i > 0 && i % GROUP == 0 {
            code.push('-');
        }
        // `gen_range` rejects and redraws out-of-range samples, so there is no modulo bias.
        code.push(char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]));
    }
    Sensitive::new(code)
}

/// The canonical form of a typed code: its 12 alphabet characters, lower case, without
/// dashes or spaces. `None` when anything else is in it or the length is wrong.
pub fn normalize(input: &str) -> Option<Sensitive<String>> {
    // Bounded before any allocation, so a megabyte of spaces costs nothing.
    if input.len() > 4 * LEN {
        return None;
    }
    // Wiped on every early return; on success the buffer moves out without a copy.
    let mut text = zeroize::Zeroizing::new(String::with_capacity(LEN));
    for c in input.chars() {
        if c == '-' || c == ' ' {
            continue;
        }
        let c = c.to_ascii_lowercase();
        if !c.is_ascii() || !ALPHABET.contains(&(c as u8)) || text.len() == LEN {
            return None;
        }
        text.push(c);
    }
    if text.len() != LEN {
        return None;
    }
    Some(Sensitive::new(std::mem::take(&mut *text)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashSet;

    #[test]
    fn enough_entropy() {
        assert!(entropy_bits() >= 50.0, "{}", entropy_bits());
    }

    #[test]
    fn alphabet_has_no_look_alikes_or_repeats() {
        for bad in b"01oOiIlLuU" {
            assert!(!ALPHABET.contains(bad), "{}", char::from(*bad));
        }
        let unique: HashSet<u8> = ALPHABET.iter().copied().collect();
        assert_eq!(unique.len(), ALPHABET.len());
        assert!(
            ALPHABET
                .iter()
                .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
        );
    }

    #[test]
    fn a_set_is_ten_distinct_well_formed_codes() {
        let codes = generate();
        assert_eq!(codes.len(), COUNT);
        let distinct: HashSet<&String> = codes.iter().map(|c| c.expose()).collect();
        assert_eq!(distinct.len(), COUNT);
        for code in &codes {
            let text = code.expose();
            assert_eq!(text.len(), 14);
            let groups: Vec<&str> = text.split('-').collect();
            assert_eq!(groups.len(), 3);
            assert!(groups.iter().all(|g| g.len() == GROUP));
            let n = normalize(text).unwrap();
            assert_eq!(n.expose(), &text.replace('-', ""));
        }
    }

    #[test]
    fn every_character_of_the_alphabet_turns_up() {
        let seen: HashSet<char> = (0..50)
            .flat_map(|_| generate())
            .flat_map(|c| c.expose().chars().collect::<Vec<_>>())
            .filter(|c| *c != '-')
            .collect();
        assert_eq!(seen.len(), ALPHABET.len());
    }

    #[test]
    fn normalize_is_forgiving_about_case_spaces_and_dashes() {
        let want = "abcd2345wxyz";
        for typed in [
            "abcd-2345-wxyz",
            "ABCD-2345-WXYZ",
            "abcd 2345 wxyz",
            "abcd2345wxyz",
            " AbCd - 2345 - wXyZ ",
            "a-b-c-d-2-3-4-5-w-x-y-z",
        ] {
            assert_eq!(normalize(typed).unwrap().expose(), want, "{typed:?}");
        }
    }

    #[test]
    fn normalize_refuses_everything_else() {
        for typed in [
            "",
            "abcd-2345-wxy",
            "abcd-2345-wxyzz",
            "abcd-2345-wxy0",
            "abcd-2345-wxyo",
            "abcd-2345-wxy1",
            "abcd-2345-wxyl",
            "abcd-2345-wxyi",
            "abcd-2345-wxyu",
            "abcd_2345_wxyz",
            "abcd\t2345\twxyz",
            "abcd-2345-wxyé",
            "ａbcd-2345-wxyz",
            "123456",
        ] {
            assert!(normalize(typed).is_none(), "{typed:?}");
        }
        let padded = format!("{}abcd2345wxyz", " ".repeat(100));
        assert!(normalize(&padded).is_none());
    }

    #[test]
    fn debug_hides_codes() {
        let codes = generate();
        let shown = format!("{codes:?}");
        assert!(!shown.contains(codes[0].expose().as_str()));
        assert!(!format!("{:?}", normalize("abcd2345wxyz")).contains("abcd"));
    }

    proptest! {
        #[test]
        fn normalize_never_panics_and_is_idempotent(s in "\\PC{0,60}") {
            if let Some(n) = normalize(&s) {
                prop_assert_eq!(n.expose().len(), LEN);
                let again = normalize(n.expose()).unwrap();
                prop_assert_eq!(again.expose(), n.expose());
            }
        }
    }
}
