/** Number formats shared by the tables. */

export function fixed(value: number, digits = 2): string {
  return Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
}

export function integer(value: number): string {
  return Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : 'n/a';
}

/** `a / b` as "0.42x", for comparisons against node-cron. */
export function ratio(value: number, reference: number): string {
  return reference > 0 && Number.isFinite(value) ? `${(value / reference).toFixed(2)}x` : 'n/a';
}

export function verdict(met: boolean): string {
  return met ? 'met' : '**missed**';
}
