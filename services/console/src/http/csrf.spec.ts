import type { IncomingMessage } from 'node:http';
import { isSameOriginRequest } from './csrf';

const request = (headers: Record<string, string>) =>
  ({ headers: { host: 'console.example:8456', ...headers } }) as unknown as IncomingMessage;

describe('the same-origin check of requests that act as the user', () => {
  it('accepts the web app’s own calls', () => {
    expect(isSameOriginRequest(request({ 'x-shoal-console': '1' }), false)).toBe(true);
    expect(
      isSameOriginRequest(
        request({
          'x-shoal-console': '1',
          origin: 'http://console.example:8456',
          'sec-fetch-site': 'same-origin',
        }),
        false,
      ),
    ).toBe(true);
    expect(
      isSameOriginRequest(
        request({ 'x-shoal-console': '1', origin: 'https://console.example:8456' }),
        true,
      ),
    ).toBe(true);
  });

  it.each([
    ['without the custom header', {}, false],
    ['with another value of it', { 'x-shoal-console': 'yes' }, false],
    ['from another origin', { 'x-shoal-console': '1', origin: 'https://evil.example' }, false],
    [
      'over plain HTTP when the console serves TLS',
      { 'x-shoal-console': '1', origin: 'http://console.example:8456' },
      true,
    ],
    [
      'from another site by fetch metadata',
      { 'x-shoal-console': '1', 'sec-fetch-site': 'cross-site' },
      false,
    ],
    ['from a sibling subdomain', { 'x-shoal-console': '1', 'sec-fetch-site': 'same-site' }, false],
  ] as [string, Record<string, string>, boolean][])('refuses a request %s', (_, headers, tls) => {
    expect(isSameOriginRequest(request(headers), tls)).toBe(false);
  });
});
