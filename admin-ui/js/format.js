// Display formatting. Money arrives as exact decimal strings and is formatted from the string
// itself (BigInt for the integer part), never through a float.

const LOCALE = navigator.language || 'en-US';
export const CURRENCY = 'USD';

const intFormat = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 0 });
const moneyParts = new Intl.NumberFormat(LOCALE, {
  style: 'currency', currency: CURRENCY, minimumFractionDigits: 0, maximumFractionDigits: 0,
});
const decimalSeparator = new Intl.NumberFormat(LOCALE, { minimumFractionDigits: 1 })
  .formatToParts(1.5).find((p) => p.type === 'decimal')?.value || '.';
const dateTime = new Intl.DateTimeFormat(LOCALE, { dateStyle: 'medium', timeStyle: 'short' });
const dateOnly = new Intl.DateTimeFormat(LOCALE, { dateStyle: 'medium' });
const relative = new Intl.RelativeTimeFormat(LOCALE, { numeric: 'auto' });

const DECIMAL = /^\s*([+-]?)(\d*)(?:\.(\d*))?\s*$/;

/** Splits a decimal string into sign, integer digits and fraction digits; null if not one. */
export function parseDecimal(text) {
  if (text === null || text === undefined) return null;
  const m = DECIMAL.exec(String(text));
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return null;
  return { negative: m[1] === '-', int: m[2] || '0', frac: m[3] || '' };
}

export function isDecimal(text) {
  return parseDecimal(text) !== null;
}

/**
 * "1234.5" -> "$1,234.50", "0.12345" -> "$0.12345": at least two fraction digits, every
 * significant digit kept (trailing zeros beyond two dropped).
 */
export function formatMoney(value, { empty = '—' } = {}) {
  const d = parseDecimal(value);
  if (!d) return value === null || value === undefined || value === '' ? empty : String(value);
  let frac = d.frac.replace(/0+$/, '');
  if (frac.length < 2) frac = frac.padEnd(2, '0');
  const isZero = /^0*$/.test(d.int) && /^0*$/.test(frac);
  const parts = moneyParts.formatToParts(BigInt(d.int));
  let out = '';
  let placed = false;
  for (const p of parts) {
    if (p.type === 'minusSign') continue;
    out += p.value;
    if (p.type === 'integer' && !placed) {
      // Several integer groups are separated by "group" parts; add the fraction after the last.
      const last = parts.filter((q) => q.type === 'integer').at(-1);
      if (p === last) {
        out += decimalSeparator + frac;
        placed = true;
      }
    }
  }
  return d.negative && !isZero ? `-${out}` : out;
}

/** Plain decimal string for an input field (as the server sent it, trimmed). */
export function decimalForInput(value) {
  return value === null || value === undefined ? '' : String(value);
}

/** Normalises what a person typed ("$1,234.50") into a decimal string, or null if invalid. */
export function normaliseDecimalInput(text) {
  const cleaned = String(text).trim().replace(/^\$/, '').replace(/,/g, '');
  if (cleaned === '') return '';
  return /^-?\d+(\.\d+)?$/.test(cleaned) || /^-?\.\d+$/.test(cleaned) ? cleaned : null;
}

export function formatInt(n) {
  if (n === null || n === undefined || n === '') return '—';
  return intFormat.format(n);
}

export function formatPercent(n) {
  if (n === null || n === undefined) return '—';
  return `${Math.max(0, Math.min(100, Math.round(n)))} %`;
}

export function formatDateTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : dateTime.format(d);
}

export function formatDate(iso) {
  if (!iso) return '—';
  const d = new Date(/^\d{4}-\d{2}-\d{2}$/.test(iso) ? `${iso}T00:00:00` : iso);
  return Number.isNaN(d.getTime()) ? String(iso) : dateOnly.format(d);
}

/** "3 minutes ago" / "in 2 hours". */
export function formatRelative(iso, now = Date.now()) {
  if (!iso) return '—';
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return String(iso);
  const s = Math.round((t - now) / 1000);
  const abs = Math.abs(s);
  if (abs < 45) return relative.format(s, 'second');
  if (abs < 2700) return relative.format(Math.round(s / 60), 'minute');
  if (abs < 64800) return relative.format(Math.round(s / 3600), 'hour');
  return relative.format(Math.round(s / 86400), 'day');
}

/** "1 h 02 min", "4 min 05 s", "12 s", "0.4 s". */
export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  if (seconds < 10) return `${Math.max(0, Math.round(seconds * 10) / 10)} s`;
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h) return `${h} h ${String(m).padStart(2, '0')} min`;
  if (m) return `${m} min ${String(sec).padStart(2, '0')} s`;
  return `${sec} s`;
}

export function durationBetween(startIso, endIso) {
  if (!startIso) return null;
  const start = new Date(startIso).getTime();
  const end = endIso ? new Date(endIso).getTime() : Date.now();
  if (Number.isNaN(start) || Number.isNaN(end)) return null;
  return Math.max(0, (end - start) / 1000);
}

/** "RemoteOnly" / "remote_only" / "REMOTE_ONLY" -> "Remote only". */
export function humanizeAny(value) {
  if (value === null || value === undefined) return '—';
  return humanize(String(value).replace(/([a-z0-9])([A-Z])/g, '$1_$2'));
}

/** ENUM_VALUE -> "Enum value". */
export function humanize(value) {
  if (value === null || value === undefined) return '—';
  const s = String(value).replace(/_/g, ' ').toLowerCase().replace(/\b(csv|eta|id|sku)\b/g, (w) => w.toUpperCase());
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** A JSON value for display in a diff cell. */
export function formatJsonValue(v) {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'string') return v === '' ? '""' : v;
  return JSON.stringify(v);
}
