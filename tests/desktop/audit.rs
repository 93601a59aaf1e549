//! The audit screen in the window: actions listed from the server, the actor filter by
//! name, a date range (and a backwards one refused), text search, an event's details, an
//! export of the filtered view, and "Verify chain".

use anyhow::{Context, Result, ensure};

use crate::harness::{App, Driver};

/// A day relative to today in the app's own calendar, as a date field takes it.
async fn day(app: &App, offset: i32) -> Result<String> {
    let v = app
        .client
        .execute(
            "const d = new Date(); d.setDate(d.getDate() + arguments[0]);\
             const p = (n) => String(n).padStart(2, '0');\
             return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;",
            vec![offset.into()],
        )
        .await?;
    v.as_str()
        .map(str::to_owned)
        .context("no date from the window")
}

/// The values of a select's options.
async fn options(app: &App, id: &str) -> Result<Vec<String>> {
    let v = app
        .client
        .execute(
            "return [...document.querySelector(`[data-testid=\"${arguments[0]}\"]`).options].map((o) => o.value);",
            vec![id.into()],
        )
        .await?;
    Ok(serde_json::from_value(v)?)
}

/// The actions of the rows the table shows.
async fn shown_actions(app: &App) -> Result<Vec<String>> {
    let v = app
        .client
        .execute(
            "return [...document.querySelectorAll('[data-testid=audit-table] tbody tr td:nth-child(2)')].map((td) => td.textContent.trim());",
            vec![],
        )
        .await?;
    Ok(serde_json::from_value(v)?)
}

/// The table's actions once they are all `want` (a filter reloads the table: wait for
/// the new rows rather than read the old ones or an empty table between).
async fn rows_settle(app: &App, what: &str, want: impl Fn(&str) -> bool) -> Result<Vec<String>> {
    let mut shown = Vec::new();
    for _ in 0..100 {
        shown = shown_actions(app).await?;
        if !shown.is_empty() && shown.iter().all(|a| want(a)) {
            return Ok(shown);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    anyhow::bail!("{what}: the table shows {shown:?}")
}

pub async fn filters_and_export(app: &mut App, driver: &Driver) -> Result<()> {
    app.testid("audit-page").await?;
    // Listed from the log, not from a list in the app: the verification mail Ada asked for.
    let mut actions = Vec::new();
    for _ in 0..50 {
        actions = options(app, "audit-filter-action").await?;
        if actions.iter().any(|a| a == "email.verification_sent") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    ensure!(
        actions.iter().any(|a| a == "email.verification_sent")
            && actions.iter().any(|a| a == "password.changed"),
        "the action filter does not list the log's actions: {actions:?}"
    );
    // The actor filter offers people and keys by name.
    let actors = app.text("audit-filter-actor").await?;
    ensure!(
        actors.contains("You"),
        "no 'You' among the actors: {actors:?}"
    );

    app.choose("audit-filter-action", "password.changed")
        .await?;
    app.choose("audit-filter-from", &day(app, -1).await?)
        .await?;
    app.choose("audit-filter-to", &day(app, 1).await?).await?;
    let shown = rows_settle(app, "the action filter", |a| a == "password.changed").await?;
    app.screenshot("audit-filtered").await?;

    // Export the view: the file holds the filtered events only.
    app.click("audit-export-csv").await?;
    let saved = app.wait_text("audit-exported", "keyhold-audit").await?;
    let path = saved.trim_start_matches("Saved to").trim();
    ensure!(
        std::path::Path::new(path).starts_with(driver.home()),
        "export saved outside the app's home: {path}"
    );
    let csv = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    ensure!(
        rows.len() == shown.len() && rows.iter().all(|r| r.contains("password.changed")),
        "the filtered export holds {} rows for {} shown:\n{csv}",
        rows.len(),
        shown.len()
    );

    // One event's details.
    let open = app
        .client
        .find(fantoccini::Locator::Css("[data-testid^=audit-open-]"))
        .await?;
    open.click().await?;
    app.wait_text("audit-event-facts", "password.changed")
        .await?;
    app.screenshot("audit-event-details").await?;
    app.click("audit-event-close").await?;
    app.wait_gone("audit-event-dialog").await?;

    // A range that ends before it starts is said, and nothing is exported.
    app.choose("audit-filter-from", &day(app, 1).await?).await?;
    app.choose("audit-filter-to", &day(app, -1).await?).await?;
    app.wait_text("audit-range-error", "before the start")
        .await?;
    ensure!(
        !app.testid("audit-export-csv").await?.is_enabled().await?,
        "export offered for a backwards range"
    );
    app.screenshot("audit-range-refused").await?;
    app.choose("audit-filter-from", "").await?;
    app.choose("audit-filter-to", "").await?;
    app.choose("audit-filter-action", "").await?;

    // Text search over the loaded events.
    app.fill("audit-filter-text", "no event says this").await?;
    app.testid("audit-empty").await?;
    app.fill("audit-filter-text", "auth.log").await?;
    rows_settle(app, "the search", |a| a.starts_with("auth.log")).await?;

    app.click("audit-verify").await?;
    app.wait_text("audit-chain", "Chain intact").await?;
    app.screenshot("audit-chain-verified").await?;
    Ok(())
}
