//! Incidents in progress (issue 19): an open critical alert, or a suspended agent key of
//! the person's. Unlike hygiene advice they lower the score itself, by
//! [`INCIDENT_PENALTY`] each (an open critical alert counts once), and keep the status
//! from `protected`; each comes with a recommendation saying why.

use super::Severity::High;
use super::{INCIDENT_PENALTY, Recommendation, RecommendationId as R, ScoreStatus, SecurityFacts};

fn penalties(facts: &SecurityFacts) -> u32 {
    u32::from(facts.open_critical_alerts > 0)
        + u32::try_from(facts.suspended_keys.len()).unwrap_or(u32::MAX)
}

pub(super) fn score(points: u8, facts: &SecurityFacts) -> u8 {
    let off = penalties(facts).saturating_mul(u32::from(INCIDENT_PENALTY));
    u8::try_from(u32::from(points).saturating_sub(off)).unwrap_or(0)
}

pub(super) fn status(status: ScoreStatus, facts: &SecurityFacts) -> ScoreStatus {
    if status == ScoreStatus::Protected && penalties(facts) > 0 {
        ScoreStatus::AtRisk
    } else {
        status
    }
}

pub(super) fn recommendations(facts: &SecurityFacts) -> Vec<Recommendation> {
    let mut out = Vec::new();
    let n = facts.open_critical_alerts;
    if n > 0 {
        let what = if n == 1 {
            "1 critical alert is".to_owned()
        } else {
            format!("{n} critical alerts are")
        };
        out.push(Recommendation::new(
            R::AcknowledgeAlerts,
            High,
            format!("{what} open: review and acknowledge them under Alerts."),
        ));
    }
    for (id, name) in &facts.suspended_keys {
        let mut r = Recommendation::new(
            R::KeySuspended,
            High,
            format!(
                "Agent key \"{name}\" was suspended by a detection rule: find out why, then \
                 reinstate or revoke it."
            ),
        );
        r.target = Some(id.clone());
        out.push(r);
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::score::test_support::{facts, ids};
    use crate::score::{ScoreStatus, SecurityFacts, security_score};

    #[test]
    fn an_open_critical_alert_or_a_suspended_key_lowers_the_score_and_says_why() {
        let calm = security_score(&facts(true, true, 4));
        assert_eq!((calm.score, calm.status), (100, ScoreStatus::Protected));
        let alert = security_score(&SecurityFacts {
            open_critical_alerts: 3,
            ..facts(true, true, 4)
        });
        assert_eq!((alert.score, alert.status), (75, ScoreStatus::AtRisk));
        assert_eq!(ids(&alert), ["acknowledge_alerts"]);
        let both = security_score(&SecurityFacts {
            open_critical_alerts: 1,
            suspended_keys: vec![("k1".into(), "deploy".into())],
            ..facts(true, true, 4)
        });
        assert_eq!(both.score, 50);
        assert_eq!(ids(&both), ["acknowledge_alerts", "key_suspended"]);
        assert_eq!(both.recommendations[1].target.as_deref(), Some("k1"));
        let floor = security_score(&SecurityFacts {
            open_critical_alerts: 1,
            ..facts(false, false, 2)
        });
        assert_eq!(floor.score, 0, "never below zero");
    }
}
