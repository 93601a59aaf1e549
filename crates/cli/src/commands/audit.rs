//! `keyhold audit`: list, tail, verify, export.

use keyhold_core::api::{AuditEvent, AuditQuery};

use crate::cli::{AuditArgs, AuditCommand, ExportFormat};
use crate::context::Ctx;
use crate::error::{CliError, CliResult};
use crate::output;

fn row(e: &AuditEvent) -> Vec<String> {
    vec![
        e.id.to_string(),
        output::time(&e.at),
        format!("{}:{}", e.actor.kind, e.actor.id.as_deref().unwrap_or("-")),
        e.action.clone(),
        e.outcome.clone(),
        output::opt(&e.target),
        output::opt(&e.ip),
    ]
}

const HEADER: [&str; 7] = ["id", "at", "actor", "action", "outcome", "target", "ip"];

pub async fn run(ctx: &Ctx, args: &AuditArgs) -> CliResult<()> {
    let client = ctx.authed()?;
    match &args.command {
        Some(AuditCommand::Verify) => {
            let v = client.audit_verify().await?;
            if ctx.json {
                output::json(&v)?;
            } else if v.ok {
                println!("Audit chain intact: {} events checked.", v.checked);
            } else {
                println!(
                    "Audit chain BROKEN at event {} ({} events checked).",
                    v.first_bad
                        .map_or_else(|| "?".to_owned(), |i| i.to_string()),
                    v.checked
                );
            }
            if !v.ok {
                return Err(CliError::Refused(
                    "The audit log has been tampered with.".into(),
                ));
            }
            Ok(())
        }
        Some(AuditCommand::Export { format }) => {
            let f = match format {
                ExportFormat::Json => "json",
                ExportFormat::Csv => "csv",
            };
            print!("{}", client.audit_export(f).await?);
            Ok(())
        }
        None if args.tail => {
            let mut stream = client.audit_stream().await?;
            while let Some(ev) = stream.next().await {
                let ev = ev?;
                let e: AuditEvent = serde_json::from_str(&ev.data)
                    .map_err(|_| CliError::Server("unexpected event from the server".into()))?;
                if ctx.json {
                    println!("{}", ev.data);
                } else {
                    println!("{}", row(&e).join("  "));
                }
            }
            Ok(())
        }
        None => {
            if args.limit == 0 || args.limit > 500 {
                return Err(CliError::Usage("--limit must be between 1 and 500.".into()));
            }
            let page = client
                .audit(&AuditQuery {
                    limit: Some(args.limit),
                    action: args.action.clone(),
                    since: args.since,
                    ..Default::default()
                })
                .await?;
            if ctx.json {
                return output::json(&page.items);
            }
            output::table(&HEADER, page.items.iter().map(row).collect());
            Ok(())
        }
    }
}
