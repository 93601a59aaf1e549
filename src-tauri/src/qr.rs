//! QR codes for TOTP enrollment, drawn in Rust (keyhold-core) and handed to the web view
//! as an SVG data URL, so the front end needs no QR or crypto code.

use base64::Engine;

use crate::error::{CommandError, CommandResult, ErrorKind};

/// `otpauth://…` → `data:image/svg+xml;base64,…`.
pub fn svg_data_url(otpauth_uri: &str) -> CommandResult<String> {
    let svg = keyhold_core::qr::svg(otpauth_uri).map_err(|e| {
        CommandError::new(
            ErrorKind::Internal,
            format!("The QR code could not be drawn: {e}."),
        )
    })?;
    let encoded = base64::engine::general_purpose::STANDARD.encode(svg.expose().as_bytes());
    Ok(format!("data:image/svg+xml;base64,{encoded}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_an_svg_data_url() {
        let url = svg_data_url(
            "otpauth://totp/Keyhold:ada%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=Keyhold",
        )
        .unwrap();
        let b64 = url.strip_prefix("data:image/svg+xml;base64,").unwrap();
        let svg = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        assert!(String::from_utf8(svg).unwrap().contains("<svg"));
    }
}
