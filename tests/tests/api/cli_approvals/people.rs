//! People wait for approval as agents do, for reads and for deletes.

use keyhold_core::api::Role;
use keyhold_core::tier::Tier;
use keyhold_e2e::TestServer;

use super::helpers::{VALUE, finish, join, owner, pending_id, spawn, stdout};
use crate::cli::{keyhold, text};
use crate::support::p;

/// People wait for approval as agents do: an owner's `secrets get --wait-approval` on a
/// sensitive secret opens a request under their own name, blocks, and prints the value
/// once someone else approves it; a delete waits on its own request the same way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_waits_for_approval_like_an_agent() {
    let ts = TestServer::start().await;
    let url = ts.url();
    let ada = owner(&ts, "ada.wait@example.com").await;
    ada.client
        .put_secret(&p("p/DB"), VALUE, None, Some(Tier::Sensitive))
        .await
        .unwrap();
    let bob = join(&ts, &ada.client, "bob.wait@example.com", Role::Approver).await;
    let ada_env = [("KEYHOLD_TOKEN", ada.client.token().unwrap())];

    let getter = spawn(
        &url,
        &["secrets", "get", "p/DB", "--wait-approval", "--silent"],
        &ada_env,
    );
    let id = pending_id(&bob).await;
    let request = bob.approval(&id).await.unwrap();
    match &request.requested_by {
        keyhold_core::api::RequestedBy::Person { user } => assert_eq!(user.id, ada.user_id),
        other => panic!("the request names the person: {other:?}"),
    }
    bob.approve(&id, None, None).await.unwrap();
    let got = finish(getter).await;
    assert_eq!(got.status.code(), Some(0), "{}", text(&got));
    assert_eq!(stdout(&got), VALUE);

    // Without --wait-approval a person gets exit 5 and the request's id, as an agent does.
    let asks = keyhold(&url, &["secrets", "get", "p/DB"], None, &ada_env);
    assert_eq!(asks.status.code(), Some(5), "{}", text(&asks));
    assert!(!text(&asks).contains(VALUE));
}
