import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';
import { contentSecurityPolicyMeta } from './src/shared/security/content-security-policy';

/**
 * Writes the shared CSP into the built page right after <meta charset>, before any script or stylesheet,
 * so the meta tag, the Electron session header and `ptw serve`'s header cannot drift apart. Build only:
 * the dev server's React refresh preamble is an inline script that this policy would block.
 */
function contentSecurityPolicyMetaTag(): Plugin {
  const anchor = '<meta charset="UTF-8" />';
  return {
    name: 'ptw-csp-meta',
    apply: 'build',
    transformIndexHtml: {
      order: 'pre',
      handler(html) {
        if (!html.includes(anchor)) throw new Error(`index.html needs ${anchor} for the CSP meta tag to follow`);
        if (/["<>&]/.test(contentSecurityPolicyMeta)) throw new Error('CSP text would need HTML escaping');
        const tag = `<meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicyMeta}" />`;
        return html.replace(anchor, `${anchor}\n    ${tag}`);
      },
    },
  };
}

// The renderer bundle. `base: './'` because the Electron shell loads it from file:// and `ptw serve`
// from http://127.0.0.1:PORT/. The CSP allows no inline script or style, so the build emits only
// external .js/.css files.
export default defineConfig({
  root: fileURLToPath(new URL('./src/renderer', import.meta.url)),
  base: './',
  plugins: [react(), contentSecurityPolicyMetaTag()],
  build: {
    outDir: fileURLToPath(new URL('./dist/renderer', import.meta.url)),
    emptyOutDir: true,
    // Chromium (Electron 40 or a current browser) supports modulepreload natively.
    modulePreload: { polyfill: false },
    // Keep every asset a file: the CSP allows data: for images only.
    assetsInlineLimit: 0,
    sourcemap: true,
    rollupOptions: {
      // zod's /*#__PURE__*/ comments sit where Rollup cannot use them; harmless, and not ours to fix.
      onwarn(warning, warn) {
        if (warning.code === 'INVALID_ANNOTATION' && warning.id?.includes('/node_modules/zod/')) return;
        warn(warning);
      },
    },
  },
  server: { host: '127.0.0.1' },
});
