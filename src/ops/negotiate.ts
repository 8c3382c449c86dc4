/**
 * What a scraper asked for, from its Accept and Accept-Encoding headers. Total: any header,
 * however long or malformed, gets one of the two formats (never a 406 or a 500), read from a
 * bounded prefix so that a hostile header costs no more than a normal one.
 */
import type { ExpositionFormat } from '../metrics/prometheus';

/** Prometheus' own Accept is under 200 characters; a few dozen ranges are more than any client sends. */
const MAX_HEADER = 2048;
const MAX_RANGES = 32;

interface Range {
  readonly type: string;
  readonly params: ReadonlyMap<string, string>;
  readonly q: number;
}

function ranges(header: string | string[] | undefined): Range[] {
  const text = (Array.isArray(header) ? header.join(',') : (header ?? '')).slice(0, MAX_HEADER);
  const out: Range[] = [];
  for (const part of text.split(',', MAX_RANGES)) {
    const [type, ...rest] = part.split(';');
    const params = new Map<string, string>();
    for (const p of rest) {
      const eq = p.indexOf('=');
      if (eq > 0) params.set(p.slice(0, eq).trim().toLowerCase(), p.slice(eq + 1).trim().replace(/^"|"$/g, ''));
    }
    const qText = params.get('q');
    // A q that is not a number in [0, 1] makes the range unacceptable rather than preferred.
    const q = qText === undefined ? 1 : /^(0(\.\d{0,3})?|1(\.0{0,3})?)$/.test(qText) ? Number(qText) : 0;
    out.push({ type: (type ?? '').trim().toLowerCase(), params, q });
  }
  return out;
}

const OPENMETRICS_VERSIONS = new Set([undefined, '1.0.0', '0.0.1']);
const TEXT_VERSIONS = new Set([undefined, '0.0.4']);

/** The format a range names, and how specifically (a wildcard ranks below a named type at the same q). */
function formatOf(range: Range): { format: ExpositionFormat; specific: boolean } | undefined {
  const version = range.params.get('version');
  if (range.type === 'application/openmetrics-text' && OPENMETRICS_VERSIONS.has(version)) return { format: 'openmetrics', specific: true };
  if (range.type === 'text/plain' && TEXT_VERSIONS.has(version)) return { format: 'text', specific: true };
  if (range.type === '*/*' || range.type === 'text/*') return { format: 'text', specific: false };
  return undefined;
}

/** OpenMetrics when the scraper prefers it (Prometheus does), the 0.0.4 text otherwise. */
export function scrapeFormat(accept: string | string[] | undefined): ExpositionFormat {
  let best: { format: ExpositionFormat; q: number; specific: boolean } | undefined;
  for (const range of ranges(accept)) {
    if (range.q <= 0) continue;
    const found = formatOf(range);
    if (!found) continue;
    if (!best || range.q > best.q || (range.q === best.q && found.specific && !best.specific)) best = { ...found, q: range.q };
  }
  return best?.format ?? 'text';
}

/** gzip when the scraper accepts it by name or by `*` with a q above zero. */
export function acceptsGzip(acceptEncoding: string | string[] | undefined): boolean {
  let wildcard = false;
  for (const range of ranges(acceptEncoding)) {
    if (range.type === 'gzip' || range.type === 'x-gzip') return range.q > 0;
    if (range.type === '*') wildcard = range.q > 0;
  }
  return wildcard;
}
