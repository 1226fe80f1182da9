/** The value of one sample line of a Prometheus text (`name{labels} value`), summed over matching lines. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const set = m[2] ?? '';
    if (!Object.entries(labels).every(([k, v]) => set.includes(`${k}="${v}"`))) continue;
    total += Number(m[3]);
    found = true;
  }
  return found ? total : Number.NaN;
}
