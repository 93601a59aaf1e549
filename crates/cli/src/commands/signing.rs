//! `keyhold keys create --ed25519`: the key pair is made here from the OS CSPRNG, the
//! private key kept on this machine (a new file with mode 0600, or the OS keyring), and
//! only the public key sent. The key's id goes to stdout alone, for
//! `KEYHOLD_AGENT_KEY_ID=$(keyhold keys create --ed25519 …)`.

use std::io::Write;
use std::path::PathBuf;

use keyhold_client::signing::generate_key_pair;
use keyhold_core::Sensitive;
use keyhold_core::api::CreateKeyRequest;

use crate::context::{Ctx, signing_key_account};
use crate::error::{CliError, CliResult};
use crate::output;

/// Where the private key goes.
pub enum Keep {
    File(PathBuf),
    Keyring,
}

/// Write `pem` to a new file only its owner can read; an existing file is never replaced.
fn write_private(path: &std::path::Path, pem: &Sensitive<String>) -> CliResult<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(|e| {
        CliError::Usage(format!(
            "Cannot create the key file {}: {e} (an existing file is never replaced).",
            path.display()
        ))
    })?;
    f.write_all(pem.expose().as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|e| CliError::Usage(format!("Cannot write {}: {e}.", path.display())))
}

pub async fn create(ctx: &Ctx, mut req: CreateKeyRequest, keep: Keep) -> CliResult<()> {
    if req.name.trim().is_empty() {
        return Err(CliError::Usage("--name must not be empty.".into()));
    }
    let client = ctx.authed()?;
    let (private, public) = generate_key_pair()?;
    req.public_key = Some(public);
    // The file first: a key the server made without a private key kept would be useless.
    if let Keep::File(path) = &keep {
        write_private(path, &private)?;
    }
    let created = match client.create_signing_key(&req).await {
        Ok(c) => c,
        Err(e) => {
            if let Keep::File(path) = &keep {
                let _ = std::fs::remove_file(path);
            }
            return Err(e.into());
        }
    };
    let key = created.key;
    if let Keep::Keyring = keep
        && let Err(e) = ctx.keystore.save(&signing_key_account(&key.id), &private)
    {
        // Unusable without its private key: take it back rather than leave it live.
        let _ = client.revoke_key(&key.id).await;
        return Err(CliError::Usage(format!(
            "The OS keyring did not keep the private key ({e}); the key was revoked. \
             Use --key-file instead."
        )));
    }
    if ctx.json {
        return output::json(&key);
    }
    let kept = match &keep {
        Keep::File(path) => format!("private key in {} (mode 0600)", path.display()),
        Keep::Keyring => "private key in the OS keyring".to_owned(),
    };
    eprintln!(
        "Created Ed25519 agent key {} ({}); {kept}.",
        key.id, key.name
    );
    eprintln!(
        "keyhold: sign requests with it: KEYHOLD_AGENT_KEY_ID={}{}",
        key.id,
        match &keep {
            Keep::File(path) => format!(" KEYHOLD_AGENT_KEY_FILE={}", path.display()),
            Keep::Keyring => String::new(),
        }
    );
    println!("{}", key.id);
    Ok(())
}
