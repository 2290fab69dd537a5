/**
 * Literal secret values (passwords, keys, connection-string credentials) that must never
 * appear in output. Path-based redaction covers fields we know about; this covers a secret
 * that slips into a message or an error's text.
 */
export class SecretMask {
  private readonly needles = new Set<string>();

  constructor(values: Iterable<string> = []) {
    for (const value of values) this.add(value);
  }

  add(value: string | undefined): void {
    if (!value || value.length < 4) return;
    this.needles.add(value);
    // The same secret as it appears inside a JSON string (PEM keys carry newlines).
    const escaped = JSON.stringify(value).slice(1, -1);
    if (escaped !== value) this.needles.add(escaped);
  }

  apply(text: string): string {
    let out = text;
    for (const needle of this.needles) {
      if (out.includes(needle)) out = out.split(needle).join('[REDACTED]');
    }
    return out;
  }
}
