pub mod alerts;
pub mod approvals;
pub mod audit;
pub mod auth;
pub mod key_admin;
pub mod keys;
pub mod members;
pub mod mfa;
pub mod password_reset;
pub mod run;
pub mod secrets;
pub mod settings;
pub mod signing;
pub mod wait;
pub mod webhooks;

/// Every item of a paged list: asks `fetch` for the page after each cursor until the
/// server says there is no more.
pub(crate) async fn all_pages<T, F, Fut>(mut fetch: F) -> crate::error::CliResult<Vec<T>>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: std::future::Future<
            Output = Result<keyhold_core::api::Page<T>, keyhold_client::ClientError>,
        >,
{
    let mut items = Vec::new();
    let mut cursor = None;
    loop {
        let page = fetch(cursor.take()).await?;
        items.extend(page.items);
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return Ok(items),
        }
    }
}
