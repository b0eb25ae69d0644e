/** The namespace PM2 gives an app started without one. */
export const DEFAULT_NAMESPACE = 'default';

/**
 * The election scope of a PM2 app: its namespace and its name, each percent-encoded and joined by '/', so that no
 * two (namespace, name) pairs share a scope (`web` in `prod` is `prod/web`, and `a/b` in `c` is `c/a%2Fb`).
 */
export function pm2Scope(namespace: string | undefined, name: string): string {
  return `${encodeURIComponent(namespace ?? DEFAULT_NAMESPACE)}/${encodeURIComponent(name)}`;
}
