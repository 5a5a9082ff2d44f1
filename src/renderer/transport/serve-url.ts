/**
 * Pure URL handling for `ptw serve` mode. The token arrives once in the page URL's fragment (`#token=…`, never sent to
 * any server; `?token=…` from older links is read too); the page moves it to sessionStorage and removes it from the
 * address bar and the history entry so it does not end up in screenshots, bookmarks or the history list.
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
  const fragment = new URLSearchParams(url.hash.replace(/^#/, ''));
  const inFragment = url.hash.length > 1 && fragment.has(tokenParam);
  const inQuery = url.searchParams.has(tokenParam);
  if (!inFragment && !inQuery) return { token: null, cleanedHref: null };
  const value = (inFragment ? fragment.get(tokenParam) : url.searchParams.get(tokenParam)) ?? '';
  url.searchParams.delete(tokenParam);
  if (inFragment) {
    fragment.delete(tokenParam);
    const rest = fragment.toString();
    url.hash = rest === '' ? '' : rest;
  }
  // `new URL` keeps a bare `#` for an emptied hash; the cleaned URL has none.
  const cleaned = url.href.endsWith('#') ? url.href.slice(0, -1) : url.href;
  return { token: value === '' ? null : value, cleanedHref: cleaned };
}

/** The WebSocket endpoint of the server that served the page: same host and port, `/ws`, token in the query. */
export function serveSocketUrl(pageHref: string, token: string): string {
  const page = new URL(pageHref);
  const protocol = page.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${protocol}//${page.host}/ws?${tokenParam}=${encodeURIComponent(token)}`;
}
