//! Email addresses as account identifiers.
//!
//! Deliberately simple: one `@`, a non-empty local part, a dotted domain, no whitespace or
//! control characters, at most 254 bytes. Addresses are compared lower-cased, so
//! `Ada@Example.com` and `ada@example.com` are one account.

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Email(String);

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("email address is empty")]
    Empty,
    #[error("email address is longer than 254 characters")]
    TooLong,
    #[error("email address must not contain spaces or control characters")]
    BadCharacter,
    #[error("email address must look like name@example.com")]
    Shape,
}

impl Email {
    pub fn parse(input: &str) -> Result<Self, EmailError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(EmailError::Empty);
        }
        if s.len() > 254 {
            return Err(EmailError::TooLong);
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(EmailError::BadCharacter);
        }
        let (local, domain) = s.split_once('@').ok_or(EmailError::Shape)?;
        let domain_ok = !domain.contains('@')
            && domain.contains('.')
            && domain
                .split('.')
                .all(|label| !label.is_empty() && !label.starts_with('-') && !label.ends_with('-'));
        if local.is_empty() || local.len() > 64 || !domain_ok {
            return Err(EmailError::Shape);
        }
        Ok(Self(s.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn local_part(&self) -> &str {
        self.0.split('@').next().unwrap_or_default()
    }
}

impl std::fmt::Display for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Free text a person typed (display names, reasons, key names): trimmed, 1..=max
/// characters, no control characters.
pub fn clean_text(input: &str, max_chars: usize) -> Option<String> {
    let s = input.trim();
    let n = s.chars().count();
    if n == 0 || n > max_chars || s.chars().any(char::is_control) {
        None
    } else {
        Some(s.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_lowercases() {
        assert_eq!(
            Email::parse(" Ada@Example.COM ").unwrap().as_str(),
            "ada@example.com"
        );
        assert_eq!(Email::parse("a.b+c@x.io").unwrap().local_part(), "a.b+c");
    }

    #[test]
    fn refuses_bad_shapes() {
        for bad in [
            "",
            "ada",
            "ada@",
            "@x.io",
            "a@b",
            "a@@b.io",
            "a b@x.io",
            "a@x..io",
            "a\u{7}@x.io",
            "a@-x.io",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
        let long = format!("{}@x.io", "a".repeat(250));
        assert_eq!(Email::parse(&long), Err(EmailError::TooLong));
    }

    #[test]
    fn clean_text_rules() {
        assert_eq!(clean_text("  Ada  ", 10).as_deref(), Some("Ada"));
        assert_eq!(clean_text("", 10), None);
        assert_eq!(clean_text("a\nb", 10), None);
        assert_eq!(clean_text("abcdef", 5), None);
    }
}
