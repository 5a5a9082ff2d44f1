/**
 * The renderer's Content Security Policy: the page's meta tag, the Electron session's response header and
 * `ptw serve`'s response header all come from here. No inline script or style, nothing from the network.
 */
export const contentSecurityPolicyDirectives: Readonly<Record<string, string>> = {
  'default-src': "'self'",
  'script-src': "'self'",
  'style-src': "'self'",
  'img-src': "'self' data:",
  'font-src': "'self'",
  // CSP3 'self' also matches ws:/wss: to the page's own host and port (serve mode's /ws endpoint).
  'connect-src': "'self'",
  'worker-src': "'self'",
  'object-src': "'none'",
  'base-uri': "'none'",
  'form-action': "'none'",
};

/** For a `<meta http-equiv>` tag (where `frame-ancestors` is not allowed). */
export const contentSecurityPolicyMeta = Object.entries(contentSecurityPolicyDirectives)
  .map(([k, v]) => `${k} ${v}`)
  .join('; ');

/** For an HTTP response header. */
export const contentSecurityPolicyHeader = `${contentSecurityPolicyMeta}; frame-ancestors 'none'`;
