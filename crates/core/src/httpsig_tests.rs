use super::*;
use ed25519_dalek::pkcs8::EncodePublicKey;

/// RFC 9421 Appendix B.1.4's test key (public half) and B.2.6's request and signature.
const RFC_PUBLIC_KEY: &str = "-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=
-----END PUBLIC KEY-----";

fn rfc_headers(name: &str) -> Option<String> {
    match name {
        "date" => Some("Tue, 20 Apr 2021 02:07:55 GMT".into()),
        "content-type" => Some("application/json".into()),
        "content-length" => Some("18".into()),
        _ => None,
    }
}

#[test]
fn rfc_9421_b_2_6_ed25519_vector_verifies_and_a_changed_request_does_not() {
    let input = r#"sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519""#;
    let sig = "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:";
    let p = parse_member(input, sig).unwrap();
    let key = public_key_from_pem(RFC_PUBLIC_KEY).unwrap();
    let view = RequestView {
        method: "POST",
        scheme: "https",
        authority: "example.com",
        path: "/foo",
        query: Some("param=Value&Pet=dog"),
        header: &rfc_headers,
    };
    let base = p.base(&view).unwrap();
    assert!(p.verifies_with(&key, &base), "{base}");
    let changed = RequestView {
        path: "/bar",
        ..view
    };
    assert!(!p.verifies_with(&key, &p.base(&changed).unwrap()));
    // Keyhold's profile refuses it: no nonce, @target-uri not covered.
    assert!(matches!(parse(input, sig), Err(SigError::Malformed(_))));
}

fn no_headers(_: &str) -> Option<String> {
    None
}

#[test]
fn own_signatures_round_trip_and_bind_method_uri_and_body() {
    let key = SigningKey::from_bytes(&[7; 32]);
    let public = key.verifying_key();
    let pem = public.to_public_key_pem(Default::default()).unwrap();
    assert_eq!(public_key_from_pem(&pem).unwrap(), public);
    let view = RequestView {
        method: "PUT",
        scheme: "http",
        authority: "127.0.0.1:8270",
        path: "/v1/secrets/a/b",
        query: None,
        header: &no_headers,
    };
    let body = br#"{"value":"x"}"#;
    let nonce = new_nonce();
    let h = sign(&key, "key-1", 1_700_000_000, &nonce, &view, Some(body)).unwrap();
    let digest = h.content_digest.clone().unwrap();
    assert_eq!(
        h.signature_input,
        format!(
            r#"sig1=("@method" "@target-uri" "content-digest");created=1700000000;keyid="key-1";nonce="{nonce}";alg="ed25519""#
        )
    );
    let p = parse(&h.signature_input, &h.signature).unwrap();
    assert_eq!((p.keyid.as_str(), p.created), ("key-1", 1_700_000_000));
    let lookup = move |n: &str| (n == "content-digest").then(|| digest.clone());
    let signed = RequestView {
        header: &lookup,
        ..view
    };
    assert!(p.verifies_with(&public, &p.base(&signed).unwrap()));
    check_content_digest(h.content_digest.as_deref(), body).unwrap();
    assert_eq!(
        check_content_digest(h.content_digest.as_deref(), b"{}"),
        Err(SigError::Digest)
    );
    for changed in [
        RequestView {
            method: "GET",
            ..signed
        },
        RequestView {
            path: "/v1/secrets/a/c",
            ..signed
        },
        RequestView {
            query: Some("version=1"),
            ..signed
        },
        RequestView {
            authority: "127.0.0.1:8271",
            ..signed
        },
    ] {
        assert!(!p.verifies_with(&public, &p.base(&changed).unwrap()));
    }
    let other = SigningKey::from_bytes(&[8; 32]).verifying_key();
    assert!(!p.verifies_with(&other, &p.base(&signed).unwrap()));
}

#[test]
fn profile_and_shape_are_enforced() {
    let sig = format!(
        "sig1=:{}:",
        base64::engine::general_purpose::STANDARD.encode([0u8; 64])
    );
    let nonce = "AAAAAAAAAAAAAAAAAAAAAA";
    let ok = format!(r#"sig1=("@method" "@target-uri");created=1;keyid="k";nonce="{nonce}""#);
    assert!(parse(&ok, &sig).is_ok());
    for bad in [
        format!(r#"sig1=("@method");created=1;keyid="k";nonce="{nonce}""#),
        format!(r#"sig1=("@method" "@target-uri");keyid="k";nonce="{nonce}""#),
        r#"sig1=("@method" "@target-uri");created=1;keyid="k";nonce="short""#.to_owned(),
        r#"sig1=("@method" "@target-uri");created=1;keyid="k""#.to_owned(),
        format!(
            r#"sig1=("@method" "@target-uri");created=1;keyid="k";nonce="{nonce}";alg="rsa-pss-sha512""#
        ),
        format!(r#"sig1=("@method" "@target-uri" "@method");created=1;keyid="k";nonce="{nonce}""#),
        format!(r#"sig1=("@method" "@target-uri" "x";sf);created=1;keyid="k";nonce="{nonce}""#),
        format!(r#"sig1=("@method" "@target-uri");created=1;keyid="k";nonce="{nonce}";bogus=1"#),
        format!(r#"sig1=("@method" "@target-uri");created="1";keyid="k";nonce="{nonce}""#),
        format!(r#"sig1=("@method" "@Target-uri");created=1;keyid="k";nonce="{nonce}""#),
        "sig1=garbage(".to_owned(),
        String::new(),
    ] {
        assert!(
            matches!(parse(&bad, &sig), Err(SigError::Malformed(_))),
            "{bad}"
        );
    }
    assert!(parse(&ok, "sig1=:AAAA:").is_err());
    assert!(parse(&ok, "other=:AAAA:").is_err());
    assert!(parse(&ok, "sig1=1").is_err());
}

proptest::proptest! {
    #[test]
    fn parsing_and_digests_never_panic(input in ".{0,300}", sig in ".{0,120}", body in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
        let _ = parse(&input, &sig);
        let _ = check_content_digest(Some(&input), &body);
        if let Ok(p) = parse(&input, &sig) {
            let view = RequestView { method: "GET", scheme: "http", authority: "h", path: "/", query: None, header: &no_headers };
            let _ = p.base(&view);
        }
    }
}

/// docs/credentials.md's worked example, made with PyPI's `http-message-signatures`,
/// verifies here byte for byte (and stops verifying when the body changes).
#[test]
fn the_documented_worked_example_verifies() {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/credentials.md"
    ))
    .unwrap();
    let field = |name: &str| {
        doc.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}: ")))
            .unwrap()
            .to_owned()
    };
    let (input, sig, digest) = (
        field("Signature-Input"),
        field("Signature"),
        field("Content-Digest"),
    );
    let p = parse(&input, &sig).unwrap();
    assert_eq!(p.keyid, "0193a5c2-7f1e-7c3a-9d4e-2b8f6a1c0d9e");
    let key = public_key_from_pem(RFC_PUBLIC_KEY).unwrap();
    let lookup = move |n: &str| (n == "content-digest").then(|| digest.clone());
    let view = RequestView {
        method: "PUT",
        scheme: "https",
        authority: "vault.example.com",
        path: "/v1/secrets/production/stripe/STRIPE_SECRET_KEY",
        query: None,
        header: &lookup,
    };
    let base = p.base(&view).unwrap();
    assert!(doc.contains(&base), "the documented base differs:\n{base}");
    assert!(p.verifies_with(&key, &base));
    let body = br#"{"value":"sk_live_example","tier":"critical"}"#;
    check_content_digest(Some(&field("Content-Digest")), body).unwrap();
    assert!(check_content_digest(Some(&field("Content-Digest")), b"{}").is_err());
}
