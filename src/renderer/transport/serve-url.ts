/**
 * Pure URL handling for `ptw serve` mode. The token arrives once in the page URL (`?token=…`, like Jupyter);
 * the page moves it to sessionStorage and removes it from the address bar so it does not end up in
 * screenshots, bookmarks or the history list.
 */

export const tokenParam = 'token';

export interface TokenExtraction {
  /** The token from the URL, or null when there is none (or it is empty). */
  readonly token: string | null;
  /** The URL without the token, to pass to `history.replaceState`; null when the URL had no token parameter. */
  readonly cleanedHref: string | null;
}

export function extractToken(href: string): TokenExtraction {
  const url = new URL(href);
  if (!url.searchParams.has(tokenParam)) return { token: null, cleanedHref: null };
  const value = url.searchParams.get(tokenParam) ?? '';
  url.searchParams.delete(tokenParam);
  return { token: value === '' ? null : value, cleanedHref: url.href };
}

/** The WebSocket endpoint of the server that served the page: same host and port, `/ws`, token in the query. */
export function serveSocketUrl(pageHref: string, token: string): string {
  const page = new URL(pageHref);
  const protocol = page.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${protocol}//${page.host}/ws?${tokenParam}=${encodeURIComponent(token)}`;
}
