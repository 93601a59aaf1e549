//! Advice about each agent key: too broad, never expiring, old, or unused.

use super::Severity::{High, Low, Medium};
use super::{KeyFacts, OLD_KEY_DAYS, Recommendation, RecommendationId as R, UNUSED_DAYS};

/// In this order before sorting: broad scope, no expiry, old, unused.
pub(super) fn for_key(key: &KeyFacts) -> Vec<Recommendation> {
    let mut recs = Vec::new();
    let name = &key.name;
    if key.wildcard_or_cross_env {
        recs.push(
            Recommendation::new(
                R::KeyBroadScope,
                High,
                format!(
                    "Agent key \"{name}\" reaches every secret or more than one environment; narrow its scopes."
                ),
            )
            .about(key),
        );
    }
    if !key.has_expiry {
        recs.push(
            Recommendation::new(
                R::KeyWithoutExpiry,
                Medium,
                format!("Agent key \"{name}\" never expires; give it an expiry date."),
            )
            .about(key),
        );
    }
    if key.age_days >= OLD_KEY_DAYS {
        recs.push(
            Recommendation::new(
                R::KeyOld,
                Medium,
                format!(
                    "Agent key \"{name}\" is {} days old; rotate it.",
                    key.age_days
                ),
            )
            .about(key),
        );
    }
    let idle_days = key.last_used_days_ago.unwrap_or(key.age_days);
    if idle_days >= UNUSED_DAYS {
        let message = match key.last_used_days_ago {
            Some(d) => format!(
                "Agent key \"{name}\" has not been used for {d} days; revoke it if it is no longer needed."
            ),
            None => format!(
                "Agent key \"{name}\" has never been used; revoke it if it is no longer needed."
            ),
        };
        recs.push(Recommendation::new(R::KeyUnused, Low, message).about(key));
    }
    recs
}

#[cfg(test)]
mod tests {
    use crate::score::KeyFacts;
    use crate::score::Severity;
    use crate::score::test_support::{key, key_recs};

    #[test]
    fn a_tidy_key_has_no_recommendations() {
        assert!(key_recs(key("k")).is_empty());
    }

    #[test]
    fn key_recommendations() {
        let t = Some("k".to_owned());
        assert_eq!(
            key_recs(KeyFacts {
                has_expiry: false,
                ..key("k")
            }),
            [("key_without_expiry".into(), Severity::Medium, t.clone())]
        );
        assert_eq!(
            key_recs(KeyFacts {
                wildcard_or_cross_env: true,
                ..key("k")
            }),
            [("key_broad_scope".into(), Severity::High, t.clone())]
        );
        // Unused: by last use, or by age when never used; 29 days is not yet.
        let unused = [("key_unused".to_owned(), Severity::Low, t.clone())];
        assert_eq!(
            key_recs(KeyFacts {
                last_used_days_ago: Some(30),
                age_days: 40,
                ..key("k")
            }),
            unused
        );
        assert!(
            key_recs(KeyFacts {
                last_used_days_ago: Some(29),
                age_days: 40,
                ..key("k")
            })
            .is_empty()
        );
        assert_eq!(
            key_recs(KeyFacts {
                last_used_days_ago: None,
                age_days: 30,
                ..key("k")
            }),
            unused
        );
        assert!(
            key_recs(KeyFacts {
                last_used_days_ago: None,
                age_days: 29,
                ..key("k")
            })
            .is_empty()
        );
        // Old: 90 days and more.
        assert_eq!(
            key_recs(KeyFacts {
                age_days: 90,
                ..key("k")
            }),
            [("key_old".into(), Severity::Medium, t.clone())]
        );
        assert!(
            key_recs(KeyFacts {
                age_days: 89,
                ..key("k")
            })
            .is_empty()
        );
    }
}
