//! Human tables and JSON. Secret values are printed by `secrets get` alone.

use comfy_table::{ContentArrangement, Table, presets};
use serde::Serialize;

use crate::error::CliResult;

pub fn json<T: Serialize>(value: &T) -> CliResult<()> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| crate::error::CliError::Server(format!("cannot format output: {e}")))?;
    println!("{text}");
    Ok(())
}

/// A plain table: header row, no borders, so it reads well and greps well.
pub fn table(header: &[&str], rows: Vec<Vec<String>>) {
    let mut t = Table::new();
    t.load_preset(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(header.iter().map(|h| h.to_uppercase()));
    for r in rows {
        t.add_row(r);
    }
    let text = t.to_string();
    for line in text.lines() {
        println!("{}", line.strip_prefix(' ').unwrap_or(line).trim_end());
    }
}

pub fn time(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

pub fn opt(s: &Option<String>) -> String {
    s.clone().unwrap_or_else(|| "-".to_owned())
}
