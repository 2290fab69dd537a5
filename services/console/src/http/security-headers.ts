import type { ServerResponse } from 'node:http';

/**
 * The page may load only its own scripts, styles, fonts and images and talk only to its own
 * origin; nothing inline runs, nothing frames it. Inline style attributes stay allowed: the
 * component kit and the charts set CSS variables and sizes through them (styles cannot run code).
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Headers every console response carries. */
export function setSecurityHeaders(res: ServerResponse, tls: boolean): void {
  res.setHeader('content-security-policy', CONTENT_SECURITY_POLICY);
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('x-frame-options', 'DENY');
  res.setHeader('referrer-policy', 'no-referrer');
  res.setHeader('cross-origin-opener-policy', 'same-origin');
  res.setHeader('cross-origin-resource-policy', 'same-origin');
  res.setHeader('permissions-policy', 'camera=(), microphone=(), geolocation=(), payment=()');
  if (tls) res.setHeader('strict-transport-security', 'max-age=31536000');
}
