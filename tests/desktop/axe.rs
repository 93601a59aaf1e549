//! Accessibility of every screen and dialog the end-to-end test visits, checked by
//! axe-core (npm, Deque's engine: nobody here wrote the rules) inside the real window,
//! in the light and the dark theme. Each check's report is saved beside its screenshot
//! (`NN-name.axe.json`); violations of impact "serious" or "critical" fail the run.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::{Context, Result, anyhow};
use fantoccini::Client;
use serde_json::Value;

/// Where `npm ci` in ui/ puts axe-core (a dev dependency of the UI).
pub fn source_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/node_modules/axe-core/axe.min.js")
}

fn source() -> Result<&'static str> {
    static SOURCE: OnceLock<String> = OnceLock::new();
    if let Some(s) = SOURCE.get() {
        return Ok(s);
    }
    let text = std::fs::read_to_string(source_path())
        .with_context(|| format!("reading {}", source_path().display()))?;
    Ok(SOURCE.get_or_init(|| text))
}

/// The rule sets checked: WCAG 2.0, 2.1 and 2.2 at levels A and AA.
const TAGS: &str = r#"["wcag2a","wcag2aa","wcag21a","wcag21aa","wcag22aa"]"#;

/// Runs axe in one theme and puts the page's theme back. The theme's colours change
/// through CSS variables, so two frames and a short pause let transitions finish before
/// colour contrast is measured.
const RUN: &str = r#"
const done = arguments[arguments.length - 1];
const theme = arguments[0];
const root = document.documentElement;
const before = root.getAttribute("data-theme");
const restore = () => { if (before === null) root.removeAttribute("data-theme"); else root.setAttribute("data-theme", before); };
root.setAttribute("data-theme", theme);
requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(() => {
  window.axe.run(document, { runOnly: { type: "tag", values: TAGS }, resultTypes: ["violations"] })
    .then((r) => { restore(); done(JSON.stringify({ theme, violations: r.violations })); })
    .catch((e) => { restore(); done(JSON.stringify({ theme, error: String(e) })); });
}, 250)));
"#;

/// Puts axe into the page once per document: the script is sent as the body of a
/// WebDriver `execute`, which the app's content security policy does not govern.
async fn inject(client: &Client) -> Result<()> {
    let present = client
        .execute("return typeof window.axe === 'object';", vec![])
        .await?;
    if present.as_bool() == Some(true) {
        return Ok(());
    }
    let script = format!(
        "{}\n;if (typeof axe === 'object') window.axe = axe; return typeof window.axe;",
        source()?
    );
    let kind = client.execute(&script, vec![]).await?;
    match kind.as_str() {
        Some("object") => Ok(()),
        other => Err(anyhow!("axe-core did not load in the window ({other:?})")),
    }
}

/// One line per serious or critical violation: the rule, its impact, the theme and the
/// first elements it names.
fn serious(report: &Value) -> Vec<String> {
    let theme = report["theme"].as_str().unwrap_or("?");
    let Some(violations) = report["violations"].as_array() else {
        return vec![format!("{theme}: axe failed: {}", report["error"])];
    };
    violations
        .iter()
        .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
        .map(|v| {
            let targets: Vec<String> = v["nodes"]
                .as_array()
                .into_iter()
                .flatten()
                .take(3)
                .map(|n| n["target"].to_string())
                .collect();
            format!(
                "{theme}: {} ({}): {} — {}",
                v["id"].as_str().unwrap_or("?"),
                v["impact"].as_str().unwrap_or("?"),
                v["help"].as_str().unwrap_or(""),
                targets.join(", ")
            )
        })
        .collect()
}

/// Checks the window as it is now in both themes, saves the report as `report` and
/// returns the serious and critical violations found.
pub async fn check(client: &Client, report: &Path) -> Result<Vec<String>> {
    inject(client).await?;
    let mut runs = Vec::new();
    let mut found = Vec::new();
    for theme in ["light", "dark"] {
        let script = RUN.replace("TAGS", TAGS);
        let out = client
            .execute_async(&script, vec![Value::from(theme)])
            .await?;
        let parsed: Value = serde_json::from_str(out.as_str().unwrap_or("{}"))?;
        found.extend(serious(&parsed));
        runs.push(parsed);
    }
    std::fs::write(report, serde_json::to_vec_pretty(&Value::Array(runs))?)?;
    Ok(found)
}
