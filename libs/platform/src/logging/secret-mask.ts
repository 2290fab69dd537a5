/** What a masked secret or a redacted field reads as. */
export const REDACTED = '[REDACTED]';

/**
 * Literal secret values (passwords, keys, connection-string credentials) that must never
 * appear in output. Key-based redaction covers fields we know about; this covers a secret that
 * slips into a message or an error's text, in each form it is likely to take there: as given,
 * JSON-escaped, percent-encoded (URLs, query strings, forms) and base64 (basic auth, headers).
 */
export class SecretMask {
  private readonly needles = new Set<string>();
  private ordered: string[] = [];

  constructor(values: Iterable<string> = []) {
    for (const value of values) this.add(value);
  }

  add(value: string | undefined): void {
    if (!value || value.length < 4) return;
    for (const form of encodingsOf(value)) this.needles.add(form);
    // longest first, so no shorter secret cuts a longer one into unmasked pieces
    this.ordered = [...this.needles].sort((a, b) => b.length - a.length);
  }

  apply(text: string): string {
    let out = text;
    for (const needle of this.ordered) {
      if (out.includes(needle)) out = out.split(needle).join(REDACTED);
    }
    return out;
  }
}

function encodingsOf(value: string): Set<string> {
  const percent = encodeURIComponent(value);
  const forms = new Set([
    value,
    percent,
    lowerHex(percent),
    // application/x-www-form-urlencoded: spaces as '+', and '!', "'", '(', ')', '*' encoded too
    percent.replace(/%20/g, '+').replace(/[!'()*]/g, (c) => `%${hex(c)}`),
    encodeURI(value),
    Buffer.from(value).toString('base64'),
    Buffer.from(value).toString('base64').replace(/=+$/, ''),
    Buffer.from(value).toString('base64url'),
  ]);
  // each of them as it appears inside a JSON string (PEM keys carry newlines)
  for (const form of [...forms]) forms.add(JSON.stringify(form).slice(1, -1));
  return forms;
}

function lowerHex(encoded: string): string {
  return encoded.replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase());
}

function hex(character: string): string {
  return character.charCodeAt(0).toString(16).toUpperCase();
}
