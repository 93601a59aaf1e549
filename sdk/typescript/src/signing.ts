/**
 * Ed25519 request signatures (RFC 9421 HTTP Message Signatures, RFC 9530 digests): an
 * Ed25519 agent key's private half stays on the agent's machine, and each request made
 * with it carries a signature over its method, target URI and (with a body) its
 * `Content-Digest`, a creation time and a fresh nonce. See docs/credentials.md.
 */
import { createHash, createPrivateKey, createPublicKey, randomBytes, sign, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";

const LABEL = "sig1";

/** The RFC 9530 `Content-Digest` of `body`: `sha-256=:<base64>:`. */
export function contentDigest(body: Uint8Array): string {
  return `sha-256=:${createHash("sha256").update(body).digest("base64")}:`;
}

export interface SignOptions {
  created?: number;
  nonce?: string;
}

/** Signs requests as agent key `keyId` with its Ed25519 private key. */
export class Ed25519Signer {
  readonly keyId: string;
  readonly #key: KeyObject;

  constructor(keyId: string, privateKey: KeyObject) {
    if (!keyId || /["\\]/.test(keyId)) throw new TypeError("keyId must be a non-empty agent key id");
    if (privateKey.type !== "private" || privateKey.asymmetricKeyType !== "ed25519") {
      throw new TypeError("the key is not an Ed25519 private key");
    }
    this.keyId = keyId;
    this.#key = privateKey;
  }

  /** From a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`) holding an Ed25519 key. */
  static fromPem(keyId: string, pem: string | Buffer): Ed25519Signer {
    return new Ed25519Signer(keyId, createPrivateKey({ key: pem, format: "pem" }));
  }

  /** From a PKCS#8 PEM file, as `keyhold keys create --ed25519` writes it (0600). */
  static fromFile(keyId: string, path: string): Ed25519Signer {
    return Ed25519Signer.fromPem(keyId, readFileSync(path));
  }

  /** The public half as SPKI PEM: what `POST /v1/keys` takes as `public_key`. */
  publicKeyPem(): string {
    return createPublicKey(this.#key).export({ type: "spki", format: "pem" }).toString();
  }

  /** The headers that sign a request: `Signature-Input`, `Signature` and, with a body,
   * `Content-Digest`. */
  headers(method: string, url: string, body: Uint8Array | undefined, opts: SignOptions = {}): Record<string, string> {
    const out: Record<string, string> = {};
    const components = ['"@method"', '"@target-uri"'];
    const lines = [`"@method": ${method.toUpperCase()}`, `"@target-uri": ${url}`];
    if (body && body.length > 0) {
      const digest = contentDigest(body);
      out["Content-Digest"] = digest;
      components.push('"content-digest"');
      lines.push(`"content-digest": ${digest}`);
    }
    const created = opts.created ?? Math.floor(Date.now() / 1000);
    const nonce = opts.nonce ?? randomBytes(16).toString("base64url");
    const params = `(${components.join(" ")});created=${created};keyid="${this.keyId}";nonce="${nonce}";alg="ed25519"`;
    lines.push(`"@signature-params": ${params}`);
    const signature = sign(null, Buffer.from(lines.join("\n")), this.#key).toString("base64");
    out["Signature-Input"] = `${LABEL}=${params}`;
    out["Signature"] = `${LABEL}=:${signature}:`;
    return out;
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `Ed25519Signer(${this.keyId})`;
  }

  toJSON(): { keyId: string } {
    return { keyId: this.keyId };
  }
}
