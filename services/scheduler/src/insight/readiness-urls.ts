/** The services GetSystemStatus asks for readiness, by name; undefined when one is malformed. */
export function readinessUrlsOf(value: string): ReadonlyMap<string, string> | undefined {
  const urls = new Map<string, string>();
  for (const entry of value
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)) {
    const [name, url] = entry.split(/=(.*)/s);
    if (!name || !url || !URL.canParse(url)) return undefined;
    urls.set(name, url);
  }
  return urls;
}
