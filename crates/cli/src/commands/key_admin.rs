//! `keyhold keys show|update|rotate`: one key's details and use, changing its expiry or
//! allowlist, and rotating it. A rotated key's new secret goes to stdout alone, as
//! `keys create` prints one, with what it is and a warning on stderr.

use chrono::{DateTime, Utc};
use keyhold_core::api::{KeyDetails, UpdateKeyRequest};
use keyhold_core::duration;

use crate::context::Ctx;
use crate::error::{CliError, CliResult};
use crate::output;

fn or_never(t: Option<&DateTime<Utc>>) -> String {
    t.map_or_else(|| "never".to_owned(), output::time)
}

/// The key's fields one per line, then its recent addresses as a table.
pub async fn show(ctx: &Ctx, id: &str) -> CliResult<()> {
    let d: KeyDetails = ctx.authed()?.key(id).await?;
    if ctx.json {
        return output::json(&d);
    }
    let k = &d.key;
    let status = match (&k.revoked_at, &k.suspended_at) {
        (Some(t), _) => format!("revoked {}", output::time(t)),
        (None, Some(t)) => format!("suspended {}", output::time(t)),
        (None, None) => "active".to_owned(),
    };
    let scopes: Vec<String> = k.scopes.iter().map(ToString::to_string).collect();
    let allow = if k.ip_allowlist.is_empty() {
        "any address".to_owned()
    } else {
        k.ip_allowlist.join(",")
    };
    let u = &d.usage;
    for (label, value) in [
        ("id", k.id.clone()),
        ("name", k.name.clone()),
        ("prefix", k.prefix.clone()),
        ("status", status),
        ("scopes", scopes.join(",")),
        ("ip allowlist", allow),
        ("created", output::time(&k.created_at)),
        ("expires", or_never(k.expires_at.as_ref())),
        ("last used", or_never(k.last_used_at.as_ref())),
        ("requests 24h", u.requests_24h.to_string()),
        ("requests 7d", u.requests_7d.to_string()),
        ("refused 7d", u.refused_7d.to_string()),
    ] {
        println!("{label:<13} {value}");
    }
    if !u.recent_ips.is_empty() {
        println!();
        output::table(
            &["address", "last seen", "requests (30d)"],
            u.recent_ips
                .iter()
                .map(|a| {
                    vec![
                        a.ip.clone(),
                        output::time(&a.last_seen_at),
                        a.requests.to_string(),
                    ]
                })
                .collect(),
        );
    }
    Ok(())
}

/// What `keys update` was asked to change; the flags' conflicts are clap's.
pub struct Changes<'a> {
    pub expires_at: Option<DateTime<Utc>>,
    pub expires_in: Option<&'a str>,
    pub never_expires: bool,
    pub ip_allowlist: Option<&'a [String]>,
    pub any_address: bool,
}

fn request(c: &Changes<'_>) -> CliResult<UpdateKeyRequest> {
    let expires_at = if c.never_expires {
        Some(None)
    } else if let Some(text) = c.expires_in {
        let d =
            duration::parse(text).map_err(|e| CliError::Usage(format!("--expires-in: {e}.")))?;
        Some(Some(super::wait::local_now() + d))
    } else {
        c.expires_at.map(Some)
    };
    let ip_allowlist = if c.any_address {
        Some(None)
    } else {
        c.ip_allowlist.map(|l| Some(l.to_vec()))
    };
    if expires_at.is_none() && ip_allowlist.is_none() {
        return Err(CliError::Usage(
            "Say what to change: --expires-at, --expires-in, --never-expires, --ip-allowlist \
             or --any-address."
                .into(),
        ));
    }
    Ok(UpdateKeyRequest {
        expires_at,
        ip_allowlist,
    })
}

pub async fn update(ctx: &Ctx, id: &str, changes: &Changes<'_>) -> CliResult<()> {
    let req = request(changes)?;
    let k = ctx.authed()?.update_key(id, &req).await?;
    if ctx.json {
        return output::json(&k);
    }
    let allow = if k.ip_allowlist.is_empty() {
        "any address".to_owned()
    } else {
        k.ip_allowlist.join(",")
    };
    println!(
        "Updated key {}: expires {}, usable from {allow}.",
        k.id,
        or_never(k.expires_at.as_ref())
    );
    Ok(())
}

pub async fn rotate(ctx: &Ctx, id: &str, overlap: Option<&str>) -> CliResult<()> {
    let r = ctx.authed()?.rotate_key(id, overlap).await?;
    if ctx.json {
        return output::json(&r);
    }
    eprintln!(
        "Rotated key {id}: the new key is {} ({}), expires {}; the old one stops working at {}.",
        r.key.id,
        r.key.name,
        or_never(r.key.expires_at.as_ref()),
        output::time(&r.old_key_expires_at)
    );
    eprintln!(
        "keyhold: warning: this is the only time the new key is shown; store it now \
         where the agent reads its key."
    );
    println!("{}", r.secret.expose());
    Ok(())
}
