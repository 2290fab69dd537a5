import type { Env } from './config';

/** Words that make a name (a variable, a field, a header) hold a secret. */
const SECRET_WORDS = new Set([
  'password',
  'passwd',
  'pwd',
  'passphrase',
  'secret',
  'credential',
  'credentials',
  'cookie',
  'authorization',
]);
/** Names that are secret as a whole, not word by word. */
const SECRET_NAMES = new Set(['sasl', 'apikey']);
/** What qualifies a "key" as a secret one (a Kafka record's key is not). */
const KEY_QUALIFIERS = new Set([
  'api',
  'private',
  'secret',
  'access',
  'signing',
  'encryption',
  'master',
  'client',
  'session',
  'hmac',
]);
/** Endings of names that are settings about a secret, not the secret itself. */
const SETTING_ENDINGS = new Set([
  'file',
  'path',
  'issuer',
  'seconds',
  'ms',
  'url',
  'claim',
  'name',
  'id',
  'type',
  'mechanism',
]);

/** A name's words: `X-Api-Key`, `clientSecret` and `KAFKA_SASL_PASSWORD` alike. */
function wordsOf(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

/** Whether a field or header of this name holds a secret (its value is redacted in logs). */
export function isSecretName(name: string): boolean {
  const words = wordsOf(name);
  const last = words.at(-1);
  if (!last || SETTING_ENDINGS.has(last)) return false;
  if (SECRET_NAMES.has(words.join(''))) return true;
  if (words.some((word) => SECRET_WORDS.has(word))) return true;
  if (last === 'token' || last === 'apikey') return true;
  return last === 'key' && KEY_QUALIFIERS.has(words.at(-2) ?? '');
}

/** Variables whose values must never reach a log; a variable ending in _KEY is one too. */
function isSecretVariable(name: string): boolean {
  return isSecretName(name) || (/_KEY$/.test(name) && !/_FILE$/.test(name));
}

/**
 * Secret values present in an environment, for the logger to mask: values of secret-named
 * variables, credentials inside connection strings (user-info password and secret-named query
 * parameters, as written and decoded), secret-named fields of JSON values at any depth, and the
 * basic-auth forms of the user/password pairs found.
 */
export function secretValues(source: Env): string[] {
  const secrets = new Set<string>();
  const add = (value: string | undefined) => {
    if (value && value.length >= 4) secrets.add(value);
  };
  for (const [name, value] of Object.entries(source)) {
    if (!value) continue;
    if (isSecretVariable(name)) add(value);
    secretsInValue(value).forEach(add);
  }
  const { KAFKA_SASL_USERNAME: user, KAFKA_SASL_PASSWORD: password } = source;
  if (user && password) add(basicAuth(user, password));
  return [...secrets];
}

function secretsInValue(value: string, depth = 0): string[] {
  const trimmed = value.trim();
  if (depth === 0 && (trimmed.startsWith('{') || trimmed.startsWith('['))) {
    try {
      return secretsInJson(JSON.parse(trimmed) as unknown, 1);
    } catch {
      // not JSON after all: look at it as text
    }
  }
  return secretsInUrl(value);
}

function secretsInJson(node: unknown, depth: number): string[] {
  if (depth > 32) return [];
  if (typeof node === 'string') return secretsInValue(node, depth);
  if (Array.isArray(node)) return node.flatMap((item) => secretsInJson(item, depth + 1));
  if (node === null || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([key, value]) => {
    if (isSecretName(key) && (typeof value === 'string' || typeof value === 'number')) {
      return withoutScheme(String(value));
    }
    return secretsInJson(value, depth + 1);
  });
}

const URL_PARTS = /^[a-z][a-z0-9+.-]*:\/\/(?:([^/?#]*)@)?[^/?#]*[^?#]*(?:\?([^#]*))?/i;

/** Credentials in a URL: the user-info password and secret-named query parameters. */
function secretsInUrl(value: string): string[] {
  const match = URL_PARTS.exec(value);
  if (!match) return [];
  const [, userInfo, query] = match;
  const found: string[] = [];
  if (userInfo?.includes(':')) {
    const at = userInfo.indexOf(':');
    const user = decoded(userInfo.slice(0, at));
    const password = userInfo.slice(at + 1);
    if (password) found.push(password, decoded(password), basicAuth(user, decoded(password)));
  }
  for (const pair of (query ?? '').split('&')) {
    const at = pair.indexOf('=');
    if (at < 0) continue;
    const name = decoded(pair.slice(0, at));
    const raw = pair.slice(at + 1);
    const value = decoded(raw);
    // query strings may also write spaces as '+'
    if (isSecretName(name)) found.push(raw, value, decoded(raw.replace(/\+/g, ' ')));
    // nested "key:value,key:value" lists, e.g. authMechanismProperties=AWS_SESSION_TOKEN:...
    for (const entry of value.split(',')) {
      const colon = entry.indexOf(':');
      if (colon > 0 && isSecretName(entry.slice(0, colon))) found.push(entry.slice(colon + 1));
    }
  }
  return found;
}

/** A value, and the credential alone when it is "<scheme> <credential>" (an authorization). */
function withoutScheme(value: string): string[] {
  const credential = /^(?:basic|bearer|token|digest)\s+(\S+)$/i.exec(value.trim())?.[1];
  return credential ? [value, credential] : [value];
}

function basicAuth(user: string, password: string): string {
  return Buffer.from(`${user}:${password}`).toString('base64');
}

function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
